from __future__ import annotations

from collections import Counter

import pytest

from vigie.core.contract.taxonomy import parse_skills, require_skill, skills, skills_for
from vigie.core.errors import ConfigurationError, InvalidEventError

pytestmark = pytest.mark.unit

HEADER = "code,cycle,subject,domain,label\n"


def test_the_taxonomy_covers_every_cycle_and_subject_with_dozens_of_skills() -> None:
    per_programme = Counter((s.cycle, s.subject) for s in skills().values())
    minimum = {
        ("cycle2", "mathematiques"): 20,
        ("cycle2", "francais"): 20,
        ("cycle3", "mathematiques"): 20,
        ("cycle3", "francais"): 20,
        ("seconde", "mathematiques"): 20,
        ("seconde", "francais"): 12,
        ("cycle4", "mathematiques"): 3,
        ("cycle4", "francais"): 3,
    }
    for programme, least in minimum.items():
        assert per_programme[programme] >= least, programme


@pytest.mark.parametrize(
    "code", ["C2-FR-LEC-01", "C2-MA-NOM-01", "C3-MA-NOM-01", "C3-MA-NOM-02", "C3-FR-GRA-01", "SE-MA-FON-01"]
)
def test_codes_other_parts_rely_on_are_kept(code: str) -> None:
    assert require_skill(code).code == code


def test_every_level_of_every_subject_has_skills_with_french_labels() -> None:
    for level in ("CP", "CE2", "CM1", "6e", "5e", "2nde"):
        for subject in ("francais", "mathematiques"):
            found = skills_for(level, subject)
            assert found and all(s.label and s.domain for s in found), (level, subject)
    assert require_skill("C3-MA-NOM-01").label == "Utiliser les fractions simples"


def test_an_unknown_code_is_refused_naming_the_field_and_the_nearest_codes() -> None:
    with pytest.raises(InvalidEventError) as caught:
        require_skill("C3-MA-NOM-1")
    assert caught.value.field == "skill_code"
    assert "unknown skill code 'C3-MA-NOM-1'" in str(caught.value)
    assert "did you mean C3-MA-NOM-" in str(caught.value)
    with pytest.raises(InvalidEventError, match="unknown skill code"):
        require_skill(["not", "a", "code"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("rows", "words"),
    [
        (
            "C2-MA-NOM-01,cycle2,mathematiques,Nombres,Dénombrer\nC2-MA-NOM-01,cycle2,mathematiques,Nombres,Autre\n",
            "line 3: duplicate skill code C2-MA-NOM-01",
        ),
        ("C2-MA-NOM-01,cycle9,mathematiques,Nombres,Dénombrer\n", "line 2: unknown cycle 'cycle9'"),
        ("C2-MA-NOM-01,cycle2,physique,Nombres,Dénombrer\n", "unknown subject 'physique'"),
        ("C2-MA-NOM-1,cycle2,mathematiques,Nombres,Dénombrer\n", "does not read like"),
        ("C3-MA-NOM-01,cycle2,mathematiques,Nombres,Dénombrer\n", "must start with C2-MA-"),
        ("C2-FR-NOM-01,cycle2,mathematiques,Nombres,Dénombrer\n", "must start with C2-MA-"),
        ("C2-MA-NOM-01,cycle2,mathematiques,Nombres,\n", "empty domain or label"),
        ("C2-MA-NOM-01,cycle2,mathematiques\n", "expected 5 columns"),
        ("", "no skill at all"),
    ],
)
def test_a_malformed_taxonomy_fails_at_load_naming_the_line(rows: str, words: str) -> None:
    with pytest.raises(ConfigurationError, match=words.replace("(", r"\(")):
        parse_skills(HEADER + rows)


def test_a_taxonomy_with_a_wrong_header_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="header"):
        parse_skills("code,label\nC2-MA-NOM-01,x\n")


def test_the_shipped_file_is_loaded_once() -> None:
    assert skills() is skills()
