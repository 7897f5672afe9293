"""The skill taxonomy: codes and French labels drawn from the national programmes.

Loaded once from ``skills.csv`` beside this module and validated; the contract rejects any answer
whose skill code is not in it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

from vigie.contract.referential import CYCLE_OF_LEVEL, SUBJECTS
from vigie.errors import ConfigurationError

_CYCLES = frozenset(CYCLE_OF_LEVEL.values())


@dataclass(frozen=True, slots=True)
class Skill:
    code: str
    cycle: str
    subject: str
    domain: str
    label: str


@cache
def skills() -> dict[str, Skill]:
    """All skills by code. Raises ``ConfigurationError`` if the data file is malformed."""
    text = resources.files("vigie.contract").joinpath("skills.csv").read_text(encoding="utf-8")
    found: dict[str, Skill] = {}
    for line_no, row in enumerate(csv.DictReader(text.splitlines()), start=2):
        skill = Skill(**{k: (row[k] or "").strip() for k in ("code", "cycle", "subject", "domain", "label")})
        if skill.cycle not in _CYCLES or skill.subject not in SUBJECTS or not skill.label:
            raise ConfigurationError(f"skills.csv line {line_no}: bad cycle, subject or empty label: {row}")
        if skill.code in found:
            raise ConfigurationError(f"skills.csv line {line_no}: duplicate skill code {skill.code}")
        found[skill.code] = skill
    return found


def is_known_skill(code: str) -> bool:
    return code in skills()


def skills_for(level: str, subject: str) -> list[Skill]:
    """Skills a pupil of this level works on in this subject."""
    cycle = CYCLE_OF_LEVEL[level]
    return [s for s in skills().values() if s.cycle == cycle and s.subject == subject]
