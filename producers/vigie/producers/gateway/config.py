"""A platform's configuration: who it is, how it signs in, and how its statements become events.

- ``Platform``: slug, the academies it may write for, its defaults (response time when a statement
  has no duration) and verb roles that override ``DEFAULT_VERB_ROLES``.
- ``SkillRule``: an activity (its IRI, its parent or grouping, an H5P content id, a Moodle ``cmid``,
  or an IRI prefix) -> a skill code of the taxonomy (hence its subject) and, optionally, a level.
- ``RosterEntry``: a pupil as the roster CSV gives it, already pseudonymised (``roster_entries``):
  the raw learner and class ids exist only while the CSV is read.

The roles of verbs: ``answer`` (an answer to a question), ``session_start``, ``session_end`` (a
container's end: quiz attempt, H5P parent content; never an answer), ``abandon``, ``none``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from vigie.core.contract.referential import ACADEMIES, LEVELS
from vigie.core.contract.taxonomy import require_skill
from vigie.core.errors import ConfigurationError, InvalidEventError
from vigie.producers.pseudonym import AcademyPseudonymizers

ADL = "http://adlnet.gov/expapi/verbs/"
VerbRole = Literal["answer", "session_start", "session_end", "abandon", "none"]
DEFAULT_VERB_ROLES: dict[str, VerbRole] = {
    f"{ADL}answered": "answer",
    f"{ADL}attempted": "session_start",
    f"{ADL}initialized": "session_start",
    f"{ADL}launched": "session_start",
    f"{ADL}completed": "session_end",
    f"{ADL}passed": "session_end",
    f"{ADL}failed": "session_end",
    f"{ADL}terminated": "session_end",
    f"{ADL}suspended": "abandon",
    "https://w3id.org/xapi/adl/verbs/abandoned": "abandon",
}
RuleMatch = Literal["activity", "parent", "h5p-content", "moodle-cmid", "prefix"]
#: The order rules are tried in: the most specific first.
RULE_ORDER: tuple[RuleMatch, ...] = ("activity", "h5p-content", "moodle-cmid", "parent", "prefix")
_SLUG = r"^[a-z0-9][a-z0-9._-]{0,63}$"


class Platform(BaseModel):
    """One platform (a Moodle/Éléa site, an H5P host) allowed to post statements."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    slug: str = Field(pattern=_SLUG)
    academies: tuple[str, ...] = Field(min_length=1)
    default_response_time_ms: int = Field(
        30_000,
        ge=1,
        le=3_600_000,
        description="Response time of an answer without result.duration (Moodle's quiz questions send none).",
    )
    verbs: dict[str, VerbRole] = Field(default_factory=dict, description="Verb IRI -> role, over the defaults.")

    @field_validator("academies")
    @classmethod
    def _known_academies(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [a for a in value if a not in ACADEMIES]
        if unknown:
            raise ValueError(f"unknown academies {unknown}; known codes: {', '.join(sorted(ACADEMIES))}")
        return tuple(dict.fromkeys(value))

    def role_of(self, verb: str) -> VerbRole:
        return self.verbs.get(verb) or DEFAULT_VERB_ROLES.get(verb, "none")


class SkillRule(BaseModel):
    """``match`` + ``value`` -> ``skill_code`` (its subject follows) and an optional ``level``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    match: RuleMatch
    value: str = Field(min_length=1, max_length=2048)
    skill_code: str
    level: str | None = None

    @model_validator(mode="after")
    def _known_skill_and_level(self) -> SkillRule:
        try:
            require_skill(self.skill_code)
        except InvalidEventError as error:
            raise ValueError(error.reason) from None
        if self.level is not None and self.level not in LEVELS:
            raise ValueError(f"unknown level {self.level!r}; known: {', '.join(LEVELS)}")
        if self.match in ("h5p-content", "moodle-cmid") and not self.value.isdigit():
            raise ValueError(f"a {self.match} rule's value is a number, not {self.value!r}")
        return self

    @property
    def subject(self) -> str:
        return require_skill(self.skill_code).subject


@dataclass(frozen=True, slots=True)
class RosterEntry:
    """A pupil of a platform's roster, pseudonymised: no raw id in here."""

    academy: str
    student_id: str
    school_uai: str
    class_id: str
    level: str


_UAI = re.compile(r"^[0-9]{7}[A-Z]$")
_LEVEL_ALIASES = {
    **{level.lower(): level for level in LEVELS},
    **{f"{n}eme": f"{n}e" for n in (6, 5, 4, 3)},
    **{f"{n}ème": f"{n}e" for n in (6, 5, 4, 3)},
    "2de": "2nde",
    "seconde": "2nde",
}
ROSTER_COLUMNS = ("learner", "uai", "class", "level")


def normalise_level(value: str) -> str | None:
    return _LEVEL_ALIASES.get(value.strip().lower())


def roster_entries(
    text: str, platform: Platform, keys: AcademyPseudonymizers, academy: str | None = None
) -> Iterator[RosterEntry]:
    """Read a roster CSV (``learner,uai,class,level`` and, for several academies, ``academy``),
    pseudonymising each learner and class with the academy's key; ``ConfigurationError`` names the line.

    ``learner`` is the pupil's id exactly as the platform puts it in its statements' actor
    (``account.name``, or the e-mail of ``mbox``). A class is identified within its school: its raw id
    is ``<uai>/<class>``, so two schools' "6A" stay two classes.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in reader.fieldnames or ()]
    missing = [c for c in ROSTER_COLUMNS if c not in header]
    if missing:
        raise ConfigurationError(
            f"roster: missing columns {missing} (header must have {','.join(ROSTER_COLUMNS)}"
            f"[,academy]); got {reader.fieldnames}"
        )
    for line_no, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        where = f"roster line {line_no}"
        row_academy = row.get("academy") or academy or (platform.academies[0] if len(platform.academies) == 1 else "")
        if row_academy not in platform.academies:
            raise ConfigurationError(
                f"{where}: academy {row_academy or '(none)'!r} is not one of platform "
                f"{platform.slug}'s ({', '.join(platform.academies)}); add an academy column"
            )
        if not row["learner"]:
            raise ConfigurationError(f"{where}: empty learner id")
        if not _UAI.match(row["uai"]):
            raise ConfigurationError(f"{where}: {row['uai']!r} is not a UAI (7 digits and a letter)")
        level = normalise_level(row["level"])
        if level is None:
            raise ConfigurationError(f"{where}: unknown level {row['level']!r}; known: {', '.join(LEVELS)}")
        if not row["class"]:
            raise ConfigurationError(f"{where}: empty class")
        pseudonyms = keys.for_academy(row_academy)
        yield RosterEntry(
            academy=row_academy,
            student_id=pseudonyms.student(row["learner"]),
            school_uai=row["uai"],
            class_id=pseudonyms.school_class(f"{row['uai']}/{row['class']}"),
            level=level,
        )
