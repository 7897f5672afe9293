"""Build contract events from what a platform knows: raw identifiers in, pseudonymised events out.

A platform describes the pupil once (``Pupil``, with its own raw ids of pupil, class and teacher)
and asks the builder for answers and session events. The builder pseudonymises the raw ids with the
academy's key, derives the deterministic ``event_id``, fills what can be derived (subject from the
skill, score from correctness, time = now) and validates strictly: a wrong value raises
``InvalidEventError`` naming the field and the reason, before anything is sent. Raw ids never leave
this module: the events it returns only hold pseudonyms.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from vigie.core.contract.codec import explain
from vigie.core.contract.events import (
    AnswerSubmitted,
    ErasureRequested,
    SessionEnded,
    SessionStarted,
    make_event_id,
)
from vigie.core.contract.referential import ACADEMIES
from vigie.core.contract.taxonomy import require_skill
from vigie.core.errors import InvalidEventError
from vigie.core.settings import PrivacySettings
from vigie.producers.pseudonym import AcademyPseudonymizers

M = TypeVar("M", bound=BaseModel)
_PLATFORM = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
#: Longest raw identifier accepted (it is hashed, so only abuse is stopped here).
MAX_RAW_ID_CHARS = 256


@dataclass(frozen=True, slots=True)
class Pupil:
    """Who is working, as the platform knows them: RAW ids, pseudonymised by the builder.

    ``student``, ``school_class`` and ``teacher`` are the platform's own identifiers (ENT login,
    class code...). ``academy`` is a code of ``vigie.core.contract.referential.ACADEMIES`` and
    ``school_uai`` the school's public UAI (not personal data).
    """

    academy: str
    school_uai: str
    student: str
    school_class: str
    level: str
    teacher: str | None = None


class EventBuilder:
    """Turns a platform's facts into validated, pseudonymised contract events."""

    def __init__(
        self,
        platform: str,
        privacy: PrivacySettings | AcademyPseudonymizers,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if not isinstance(platform, str) or not _PLATFORM.match(platform):
            raise InvalidEventError(
                f"{platform!r} is not a platform slug (lowercase letters, digits, '.', '_', '-'; 64 at most)",
                field="platform",
            )
        self.platform = platform
        self._keys = privacy if isinstance(privacy, AcademyPseudonymizers) else AcademyPseudonymizers(privacy)
        self._clock = clock

    @property
    def pseudonymizers(self) -> AcademyPseudonymizers:
        """The academy keys this builder pseudonymises with."""
        return self._keys

    def answer(
        self,
        pupil: Pupil,
        *,
        source_event_id: str,
        session_id: str,
        skill_code: str,
        item_id: str,
        correct: bool,
        response_time_ms: int,
        score: float | None = None,
        attempt: int = 1,
        hints_used: int = 0,
        subject: str | None = None,
        occurred_at: datetime | str | None = None,
    ) -> AnswerSubmitted:
        """One answer. ``subject`` defaults to the skill's; ``score`` to 1.0 if correct else 0.0."""
        skill = require_skill(skill_code)
        if subject is not None and subject != skill.subject:
            raise InvalidEventError(
                f"skill {skill.code} belongs to {skill.subject!r}, not {subject!r}", field="subject"
            )
        if score is None and isinstance(correct, bool):
            score = 1.0 if correct else 0.0
        return self._build(
            AnswerSubmitted,
            pupil,
            source_event_id,
            session_id,
            occurred_at,
            subject=skill.subject,
            skill_code=skill.code,
            item_id=item_id,
            correct=correct,
            score=score,
            response_time_ms=response_time_ms,
            attempt=attempt,
            hints_used=hints_used,
        )

    def session_started(
        self, pupil: Pupil, *, source_event_id: str, session_id: str, occurred_at: datetime | str | None = None
    ) -> SessionStarted:
        return self._build(SessionStarted, pupil, source_event_id, session_id, occurred_at)

    def session_ended(
        self,
        pupil: Pupil,
        *,
        source_event_id: str,
        session_id: str,
        outcome: Literal["completed", "abandoned", "timeout"],
        answers_count: int,
        occurred_at: datetime | str | None = None,
    ) -> SessionEnded:
        return self._build(
            SessionEnded,
            pupil,
            source_event_id,
            session_id,
            occurred_at,
            outcome=outcome,
            answers_count=answers_count,
        )

    def erasure(self, *, academy: str, student: str, occurred_at: datetime | str | None = None) -> ErasureRequested:
        """Right to erasure of one pupil (raw id). The id is stable: asking twice is the same event."""
        self._check_academy(academy)
        pseudonym = self._keys.for_academy(academy).student(_raw_id(student, "student"))
        return _validate(
            ErasureRequested,
            {
                "event_id": make_event_id(self.platform, f"erasure\x1f{pseudonym}"),
                "occurred_at": self._time(occurred_at),
                "academy": academy,
                "student_id": pseudonym,
            },
        )

    def _build(
        self,
        model: type[M],
        pupil: Pupil,
        source_event_id: str,
        session_id: str,
        occurred_at: datetime | str | None,
        **fields: Any,
    ) -> M:
        if not isinstance(pupil, Pupil):
            raise InvalidEventError(f"expected a Pupil, got {type(pupil).__name__}", field="pupil")
        self._check_academy(pupil.academy)
        keys = self._keys.for_academy(pupil.academy)
        teacher = None if pupil.teacher is None else keys.teacher(_raw_id(pupil.teacher, "teacher"))
        if not isinstance(source_event_id, str):
            raise InvalidEventError("must be the platform's own event id, a string", field="source_event_id")
        return _validate(
            model,
            {
                "event_id": make_event_id(self.platform, source_event_id),
                "source_event_id": source_event_id,
                "occurred_at": self._time(occurred_at),
                "platform": self.platform,
                "academy": pupil.academy,
                "school_uai": pupil.school_uai,
                "class_id": keys.school_class(_raw_id(pupil.school_class, "school_class")),
                "student_id": keys.student(_raw_id(pupil.student, "student")),
                "teacher_id": teacher,
                "level": pupil.level,
                "session_id": session_id,
                **fields,
            },
        )

    def _check_academy(self, academy: str) -> None:
        if not isinstance(academy, str) or academy not in ACADEMIES:
            raise InvalidEventError(
                f"unknown academy {academy!r}; known codes: {', '.join(sorted(ACADEMIES))}", field="academy"
            )

    def _time(self, value: datetime | str | None) -> datetime:
        if value is None:
            return self._clock()
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                raise InvalidEventError(f"{value!r} is not an ISO 8601 date-time", field="occurred_at") from None
        if not isinstance(value, datetime):
            raise InvalidEventError(f"expected a datetime, got {type(value).__name__}", field="occurred_at")
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidEventError(
                "must be timezone-aware (e.g. datetime.now(UTC)); a naive time is ambiguous", field="occurred_at"
            )
        return value


def _raw_id(value: object, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidEventError(
            f"expected the platform's raw identifier, a non-empty string, got {value!r}", field=field
        )
    if len(value) > MAX_RAW_ID_CHARS:
        raise InvalidEventError(f"raw identifier longer than {MAX_RAW_ID_CHARS} characters", field=field)
    return value


def _validate(model: type[M], fields: dict[str, Any]) -> M:
    """Strict validation: a string is not a bool, a float is not an int (platform bugs show up early)."""
    try:
        return model.model_validate(fields, strict=True)
    except ValidationError as error:
        raise explain(error) from None
