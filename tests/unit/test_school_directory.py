"""The school directory parser: the national export's layout, and a clear error for a bad file."""

from __future__ import annotations

import pytest

from vigie.core.errors import ConfigurationError
from vigie.warehouse.schools import academy_code, parse_directory

# Made-up schools in the export's layout (labels as headers, ';', a BOM, extra columns): not real data.
EXPORT = (
    "\ufeffIdentifiant_de_l_etablissement;Nom_etablissement;Type_etablissement;Statut_public_prive;"
    "Code_postal;Nom_commune;Libelle_academie\n"
    "0699001A;École fictive A;Ecole;Public;69001;Commune-Test;Lyon\n"
    "1399002B;Collège fictif B;Collège;Public;13001;Commune-Test;Aix-Marseille\n"
    "4599003C;Lycée fictif C;Lycée;Privé;45000;Commune-Test;ORLEANS-TOURS\n"
    "9899004D;École fictive D;Ecole;Public;98000;Commune-Test;Académie inconnue\n"
    "\n"
)


def test_the_exports_layout_is_read_with_academies_recognised() -> None:
    schools = {s.school_uai: s for s in parse_directory(EXPORT, "annuaire.csv")}
    assert schools["0699001A"].name == "École fictive A" and schools["0699001A"].commune == "Commune-Test"
    assert schools["1399002B"].kind == "Collège"
    assert [schools[u].academy for u in sorted(schools)] == ["lyon", "aix-marseille", "orleans-tours", ""]


def test_field_names_as_headers_and_commas_are_read_too() -> None:
    text = "identifiant_de_l_etablissement,nom_etablissement,nom_commune\n0699001a,École fictive A,Commune-Test\n"
    (school,) = parse_directory(text)
    assert (school.school_uai, school.academy, school.kind) == ("0699001A", "", "")


def test_academy_labels_meet_codes_whatever_their_accents_and_case() -> None:
    assert academy_code("La Réunion") == "la-reunion" and academy_code("CLERMONT-FERRAND") == "clermont-ferrand"
    assert academy_code("") == "" and academy_code("Caen") == ""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("uai;nom\n0699001A;A\n", "no column nom_etablissement, nom_commune"),
        (
            "identifiant_de_l_etablissement;nom_etablissement;nom_commune\n069900;École;Commune\n",
            "f.csv line 2: UAI '069900' is not 7 digits and a letter",
        ),
        (
            "identifiant_de_l_etablissement;nom_etablissement;nom_commune\n0699001A;;Commune\n",
            "f.csv line 2: school 0699001A has an empty nom_etablissement",
        ),
        ("identifiant_de_l_etablissement;nom_etablissement;nom_commune\n0699001A;École\n", "f.csv line 2: 2 columns"),
        ("identifiant_de_l_etablissement;nom_etablissement;nom_commune\n", "f.csv: no school in the file"),
    ],
)
def test_a_bad_file_is_refused_naming_the_file_the_line_and_the_problem(text: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message.replace("(", r"\(")):
        parse_directory(text, "f.csv")
