"""The school directory: UAI → name, commune, kind and academy, loaded by the operator.

Events carry a school's UAI only; people read school names. The operator loads a directory in the
layout of the national school directory's open-data export (*Annuaire de l'éducation*, CSV, ``;``
separated, one row per UAI; headers as field names ``identifiant_de_l_etablissement`` or as labels
``Identifiant_de_l_etablissement``): ``vigie warehouse schools FILE.csv``. Only the columns below are
read. The table holds no pupil data; the report and the dashboards read it through ``v_school_directory``
and show the UAI where the directory does not know a school.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from clickhouse_connect.driver.client import Client

from vigie.core.contract.referential import ACADEMIES
from vigie.core.errors import ConfigurationError

log = logging.getLogger(__name__)

TABLE = "school_directory"
VIEW = "v_school_directory"
UAI = re.compile(r"^[0-9]{7}[A-Z]$")
#: Our field -> the directory's column names that hold it (lower case; the first present wins).
COLUMNS: dict[str, tuple[str, ...]] = {
    "school_uai": ("identifiant_de_l_etablissement", "uai", "numero_uai"),
    "name": ("nom_etablissement", "appellation_officielle"),
    "commune": ("nom_commune", "libelle_commune"),
    "kind": ("type_etablissement",),
    "academy": ("libelle_academie",),
}
REQUIRED = ("school_uai", "name", "commune")
_BATCH = 20_000


@dataclass(frozen=True, slots=True)
class School:
    school_uai: str
    name: str
    commune: str
    kind: str = ""
    #: The academy's code (``lyon``) when the directory's label names one Vigie knows, else "".
    academy: str = ""

    def row(self) -> list[str]:
        return [self.academy, self.school_uai, self.name, self.commune, self.kind]


_ROW_COLUMNS = ["academy", "school_uai", "name", "commune", "kind"]


def _key(text: str) -> str:
    """Lower case, no accents, words joined by '-': 'Orléans-Tours' and 'ORLEANS TOURS' meet."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")


_ACADEMY_BY_KEY = {_key(a.name): a.code for a in ACADEMIES.values()}


def academy_code(label: str) -> str:
    """The academy code of a directory label ('Aix-Marseille' -> 'aix-marseille'); '' when unknown."""
    return _ACADEMY_BY_KEY.get(_key(label), "") if label.strip() else ""


def parse_directory(text: str, source: str = "directory") -> list[School]:
    """The schools of a directory CSV's text; ``ConfigurationError`` names the file, the line and the problem."""
    text = text.lstrip("\ufeff")
    first = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip().lower() for h in next(reader, [])]
    where: dict[str, int] = {}
    for field, names in COLUMNS.items():
        found = next((header.index(n) for n in names if n in header), None)
        if found is not None:
            where[field] = found
    missing = [f"{COLUMNS[f][0]}" for f in REQUIRED if f not in where]
    if missing:
        raise ConfigurationError(
            f"{source}: no column {', '.join(missing)} in the header (expected the national school directory's "
            f"export, ';' separated, with {', '.join(COLUMNS[f][0] for f in REQUIRED)}); header read: "
            f"{', '.join(header[:8]) or 'empty'}"
        )
    schools: dict[str, School] = {}
    for line_no, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) <= max(where.values()):
            raise ConfigurationError(f"{source} line {line_no}: {len(cells)} columns, the header has {len(header)}")
        value = {field: cells[i].strip() for field, i in where.items()}
        uai = value["school_uai"].upper()
        if not UAI.match(uai):
            raise ConfigurationError(
                f"{source} line {line_no}: UAI {value['school_uai']!r} is not 7 digits and a letter"
            )
        if not value["name"]:
            raise ConfigurationError(f"{source} line {line_no}: school {uai} has an empty nom_etablissement")
        if uai in schools:
            log.warning("%s line %d: UAI %s appears again; the last row is kept", source, line_no, uai)
        schools[uai] = School(
            uai, value["name"], value["commune"], value.get("kind", ""), academy_code(value.get("academy", ""))
        )
    if not schools:
        raise ConfigurationError(f"{source}: no school in the file")
    return list(schools.values())


def read_directory(path: Path) -> list[School]:
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise ConfigurationError(f"cannot read the school directory {path}: {error.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252")  # older exports opened and saved again in a spreadsheet
    return parse_directory(text, str(path))


def load(client: Client, database: str, schools: Iterable[School]) -> int:
    """Insert (or replace, by UAI) the schools; the number of rows written."""
    rows = [s.row() for s in schools]
    for start in range(0, len(rows), _BATCH):
        client.insert(f"{database}.{TABLE}", rows[start : start + _BATCH], column_names=_ROW_COLUMNS)
    log.info("school directory: %d school(s) loaded into %s.%s", len(rows), database, TABLE)
    return len(rows)


@dataclass(frozen=True, slots=True)
class SchoolName:
    name: str
    commune: str
    kind: str


def names(client: Client, database: str, uais: Iterable[str] | None = None) -> dict[str, SchoolName]:
    """The directory's name, commune and kind of each school (of ``uais`` if given)."""
    wanted = sorted(set(uais)) if uais is not None else None
    if wanted == []:
        return {}
    where = " WHERE school_uai IN {uais:Array(String)}" if wanted is not None else ""
    result = client.query(
        f"SELECT school_uai, name, commune, kind FROM {database}.{VIEW}{where}",
        parameters={"uais": wanted} if wanted is not None else None,
    )
    return {str(uai): SchoolName(str(name), str(commune), str(kind)) for uai, name, commune, kind in result.result_rows}
