"""The skill taxonomy: codes and French labels drawn from the national programmes.

Loaded once from ``skills.csv`` beside this module and validated; the contract rejects any answer
whose skill code is not in it. A code reads ``<cycle>-<subject>-<domain>-<nn>``: ``C3-MA-NOM-01`` is
cycle 3, mathematics, *Nombres et calculs*, skill 1. The prefix must agree with the row's cycle and
subject, so a code cannot be filed under the wrong programme by mistake.
"""

from __future__ import annotations

import csv
import difflib
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from vigie.core.contract.referential import CYCLE_OF_LEVEL, SUBJECTS
from vigie.core.errors import ConfigurationError, InvalidEventError

_CYCLES = frozenset(CYCLE_OF_LEVEL.values())
_COLUMNS = ("code", "cycle", "subject", "domain", "label")
#: The code prefix of each cycle and subject.
CYCLE_PREFIX = {"cycle2": "C2", "cycle3": "C3", "cycle4": "C4", "seconde": "SE"}
SUBJECT_PREFIX = {"francais": "FR", "mathematiques": "MA"}
CODE_PATTERN = re.compile(r"^(C2|C3|C4|SE)-(FR|MA)-[A-Z]{3}-[0-9]{2}$")


@dataclass(frozen=True, slots=True)
class Skill:
    code: str
    cycle: str
    subject: str
    domain: str
    label: str


def parse_skills(text: str, source: str = "skills.csv") -> dict[str, Skill]:
    """Parse and validate the taxonomy's CSV text; ``ConfigurationError`` names the bad line."""
    reader = csv.DictReader(text.splitlines())
    if tuple(reader.fieldnames or ()) != _COLUMNS:
        raise ConfigurationError(f"{source}: header must be {','.join(_COLUMNS)}, not {reader.fieldnames}")
    found: dict[str, Skill] = {}
    for line_no, row in enumerate(reader, start=2):
        if None in row or any(row[k] is None for k in _COLUMNS):
            raise ConfigurationError(f"{source} line {line_no}: expected {len(_COLUMNS)} columns: {row}")
        skill = Skill(**{k: row[k].strip() for k in _COLUMNS})
        problem = _problem(skill)
        if problem:
            raise ConfigurationError(f"{source} line {line_no}: {problem}")
        if skill.code in found:
            raise ConfigurationError(f"{source} line {line_no}: duplicate skill code {skill.code}")
        found[skill.code] = skill
    if not found:
        raise ConfigurationError(f"{source}: no skill at all")
    return found


def _problem(skill: Skill) -> str | None:
    if skill.cycle not in _CYCLES:
        return f"unknown cycle {skill.cycle!r} (expected one of {sorted(_CYCLES)})"
    if skill.subject not in SUBJECTS:
        return f"unknown subject {skill.subject!r} (expected one of {list(SUBJECTS)})"
    if not CODE_PATTERN.match(skill.code):
        return f"skill code {skill.code!r} does not read like C3-MA-NOM-01"
    expected = f"{CYCLE_PREFIX[skill.cycle]}-{SUBJECT_PREFIX[skill.subject]}-"
    if not skill.code.startswith(expected):
        return f"skill code {skill.code!r} of {skill.cycle}/{skill.subject} must start with {expected}"
    if not skill.domain or not skill.label:
        return f"skill {skill.code} has an empty domain or label"
    return None


@cache
def skills() -> dict[str, Skill]:
    """All skills by code, loaded and validated once. ``ConfigurationError`` if the data file is malformed."""
    text = resources.files("vigie.core.contract").joinpath("skills.csv").read_text(encoding="utf-8")
    return parse_skills(text)


def is_known_skill(code: str) -> bool:
    return code in skills()


def unknown_skill_reason(code: str) -> str:
    """A readable reason for an unknown code, with the nearest known codes when there are some."""
    near = difflib.get_close_matches(code, list(skills()), n=3, cutoff=0.75)
    hint = f" (did you mean {', '.join(near)}?)" if near else ""
    return f"unknown skill code {code!r}{hint}; see vigie.core.contract.taxonomy or skills.csv"


def require_skill(code: str, *, field: str = "skill_code") -> Skill:
    """The skill of this code, or ``InvalidEventError`` naming the field and the nearest codes."""
    try:
        return skills()[code]
    except (KeyError, TypeError):
        raise InvalidEventError(unknown_skill_reason(str(code)), field=field) from None


def skills_for(level: str, subject: str) -> list[Skill]:
    """Skills a pupil of this level works on in this subject."""
    cycle = CYCLE_OF_LEVEL[level]
    return [s for s in skills().values() if s.cycle == cycle and s.subject == subject]
