"""The event contract, version 1: every part of Vigie imports these models and never redefines them.

Models are frozen and forbid extra fields. Identifiers of pupils, classes and teachers are
pseudonyms (keyed HMAC, see ``vigie.producers.pseudonym``): the contract only accepts their
32-hex-digit form, so a raw identifier cannot travel by mistake. ``event_id`` is a UUIDv5 of the
platform and the platform's own event id, so a retried send is the same event everywhere downstream.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from vigie.core.contract.referential import ACADEMIES, Level, Subject
from vigie.core.contract.taxonomy import is_known_skill

CONTRACT_VERSION: Literal[1] = 1
#: Namespace of Vigie's deterministic event ids (UUIDv5). Never change it: ids would change.
EVENT_ID_NAMESPACE = uuid.UUID("6f0b5a52-4a8e-5d2c-9f3e-7a1c0de9e5a1")
#: How far in the future an event time may be before it is rejected (clock skew of platforms).
MAX_CLOCK_SKEW = timedelta(minutes=10)
_MAX_CLOCK_SKEW_S = MAX_CLOCK_SKEW.total_seconds()

Pseudonym = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$", description="Keyed-HMAC pseudonym (hex).")]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]
OpaqueId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:/#-]+$")]
Uai = Annotated[str, Field(pattern=r"^[0-9]{7}[A-Z]$", description="Public school id (UAI/RNE).")]


def make_event_id(platform: str, source_event_id: str) -> uuid.UUID:
    """The deterministic id of a platform's event: the same inputs always give the same id."""
    return uuid.uuid5(EVENT_ID_NAMESPACE, f"{platform}\x1f{source_event_id}")


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = CONTRACT_VERSION


class _LearningEvent(_Event):
    """Fields shared by everything a pupil does on a platform."""

    event_id: uuid.UUID
    source_event_id: OpaqueId = Field(description="The platform's own id of this event.")
    occurred_at: AwareDatetime = Field(description="When it happened (event time), timezone-aware.")
    platform: Slug
    academy: str = Field(description="Academy code, e.g. 'lyon' (see vigie.core.contract.referential).")
    school_uai: Uai
    class_id: Pseudonym
    student_id: Pseudonym
    teacher_id: Pseudonym | None = None
    level: Level
    session_id: OpaqueId

    @field_validator("occurred_at")
    @classmethod
    def _utc_and_not_in_future(cls, value: datetime) -> datetime:
        value = value.astimezone(UTC)
        if value.timestamp() > time.time() + _MAX_CLOCK_SKEW_S:  # as datetime.now(UTC), at a third of the cost
            raise ValueError(f"event time {value.isoformat()} is in the future")
        return value

    @field_validator("academy")
    @classmethod
    def _known_academy(cls, value: str) -> str:
        if value not in ACADEMIES:
            raise ValueError(f"unknown academy {value!r}")
        return value


class AnswerSubmitted(_LearningEvent):
    """One answer of one pupil to one item: the unit of everything Vigie computes."""

    kind: Literal["answer"] = "answer"
    subject: Subject
    skill_code: str = Field(description="A code of the skill taxonomy (vigie.core.contract.taxonomy).")
    item_id: OpaqueId
    correct: bool
    score: float = Field(ge=0.0, le=1.0)
    response_time_ms: int = Field(ge=0, le=3_600_000)
    attempt: int = Field(1, ge=1, le=1000)
    hints_used: int = Field(0, ge=0, le=100)

    @field_validator("skill_code")
    @classmethod
    def _known_skill(cls, value: str) -> str:
        if not is_known_skill(value):
            raise ValueError(f"unknown skill code {value!r}")
        return value


class SessionStarted(_LearningEvent):
    """A pupil opened an exercise session."""

    kind: Literal["session_started"] = "session_started"


class SessionEnded(_LearningEvent):
    """A session closed; ``abandoned`` means the pupil left without finishing."""

    kind: Literal["session_ended"] = "session_ended"
    outcome: Literal["completed", "abandoned", "timeout"]
    answers_count: int = Field(ge=0)


class ErasureRequested(_Event):
    """Right to erasure: forget this pupil everywhere. Sent on the learning-events topic, keyed by the
    pupil, so every processor meets it in order and deletes the pupil's state (a changelog tombstone)."""

    kind: Literal["erasure_requested"] = "erasure_requested"
    event_id: uuid.UUID
    occurred_at: AwareDatetime
    academy: str
    student_id: Pseudonym


LearningEvent = Annotated[
    AnswerSubmitted | SessionStarted | SessionEnded | ErasureRequested, Field(discriminator="kind")
]


class MasteryUpdated(_Event):
    """The stream's new estimate of a pupil's mastery of a skill after one answer."""

    kind: Literal["mastery_updated"] = "mastery_updated"
    event_id: uuid.UUID = Field(description="Deterministic: derived from the answer's event_id.")
    answer_event_id: uuid.UUID
    occurred_at: AwareDatetime
    academy: str
    school_uai: Uai
    class_id: Pseudonym
    student_id: Pseudonym
    level: Level
    subject: Subject
    skill_code: str
    correct: bool
    p_before: float = Field(ge=0.0, le=1.0)
    p_after: float = Field(ge=0.0, le=1.0)
    attempts: int = Field(ge=1)
    mastered: bool
    params_version: int = Field(0, ge=0)
    model: Literal["bkt", "learner"] = Field(
        "bkt", description="bkt: p is P(known) (Bayesian Knowledge Tracing); learner: p is P(next item right)."
    )
    confidence: float | None = Field(
        None, ge=0.0, le=1.0, description="Evidence behind p_after (learner model): below 0.5 it is thin."
    )
    previous_p_after: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="p_after of this pupil and skill's previous update (None for the first): group figures can "
        "then be kept as running sums (+ p_after - previous_p_after) without reading per-pupil rows.",
    )
    previous_mastered: bool | None = Field(None, description="mastered of that previous update (None for the first).")


Severity = Literal["low", "medium", "high"]
SignalType = Literal[
    "inactivity", "falling_success", "wheel_spinning", "rapid_guessing", "abandoned_sessions", "dropout_risk"
]


class SignalReason(BaseModel):
    """One readable reason of a signal, with the numbers behind it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    text: str = Field(description="A sentence a teacher can read, in French.")
    value: float
    threshold: float


class SignalChanged(_Event):
    """A dropout/disengagement signal appeared, changed severity, or cleared (never sent otherwise)."""

    kind: Literal["signal_changed"] = "signal_changed"
    event_id: uuid.UUID
    signal_id: uuid.UUID = Field(description="Stable id of this signal episode (pupil, type, first seen).")
    status: Literal["raised", "changed", "cleared"]
    signal_type: SignalType
    severity: Severity | None = Field(description="None once cleared.")
    reasons: tuple[SignalReason, ...]
    occurred_at: AwareDatetime = Field(description="Event time at which the change was detected.")
    first_seen_at: AwareDatetime
    cleared_at: AwareDatetime | None = None
    academy: str
    school_uai: Uai
    class_id: Pseudonym
    student_id: Pseudonym
    level: Level
    skill_code: str | None = None


class SkillParameters(_Event):
    """Calibrated Bayesian Knowledge Tracing parameters of one skill (compacted topic, key = skill)."""

    kind: Literal["skill_parameters"] = "skill_parameters"
    skill_code: str
    p_init: float = Field(ge=0.0, le=1.0)
    p_learn: float = Field(ge=0.0, le=1.0)
    p_guess: float = Field(ge=0.0, le=0.5)
    p_slip: float = Field(ge=0.0, le=0.5)
    half_life_days: float | None = Field(None, gt=0, description="Forgetting half-life; None = no forgetting.")
    n_answers: int = Field(ge=0)
    params_version: int = Field(ge=1)
    fitted_at: AwareDatetime


LearnerScope = Literal["global", "domain", "skill", "item"]


class LearnerParameters(_Event):
    """One part of a fitted learner model (compacted SKILL_PARAMETERS topic, key ``learner:<scope>:<key>``).

    A model is one ``global`` record (every feature's weight, the global prior, and ``parts``: how many
    domain, skill and item records the version has), one record per domain and per skill (the deviations
    of the crossed features, and the prior), and one per item (no weights; ``prior`` = the item's offset
    from its skill's difficulty). Workers use a version once all its parts have arrived.
    """

    kind: Literal["learner_parameters"] = "learner_parameters"
    scope: LearnerScope
    key: str = Field(min_length=1, max_length=128, description="'*' (global), a domain, a skill code or an item.")
    params_version: int = Field(ge=1)
    weights: list[float] = Field(max_length=256)
    prior: float = Field(description="Logit of the smoothed success rate (difficulty anchor).")
    feature_names: list[str] = Field(default_factory=list, max_length=256, description="Global record only.")
    half_life_days: float | None = Field(None, gt=0, description="Global: time decay of evidence; None = by count.")
    parts: int = Field(0, ge=0, description="Global record: domain + skill + item records of this version.")
    n_answers: int = Field(ge=0)
    fitted_at: AwareDatetime


class DeadLetter(_Event):
    """An input the stream could not accept, kept with the reason and the original bytes."""

    kind: Literal["dead_letter"] = "dead_letter"
    event_id: uuid.UUID = Field(description="Deterministic: derived from topic, partition and offset.")
    source_topic: str
    partition: int
    offset: int
    reason: str
    error_type: str
    key: str | None = Field(description="Original key, decoded as UTF-8 with replacement (pseudonymised if raw).")
    payload_b64: str = Field(description="Value bytes, base64: the original, cut and redacted (see below).")
    received_at: AwareDatetime
    # Added without a version change: every field below is optional, so older letters still decode.
    academy: str | None = Field(None, description="Academy of the pupil, when the message names a known one.")
    student_id: Pseudonym | None = Field(None, description="The pupil's pseudonym when it can be known (erasure).")
    payload_bytes: int | None = Field(None, ge=0, description="Size of the original value; None for a tombstone.")
    payload_digest: str | None = Field(None, description="Hex digest of the original value (keyed in the stream).")
    payload_truncated: bool = Field(False, description="True when payload_b64 holds only the start of the value.")
    redacted: tuple[str, ...] = Field((), description="What was pseudonymised or withheld: 'key', fields, 'payload'.")


class StatementKept(_Event):
    """A valid xAPI statement the gateway kept without making it an event (yet): pseudonymised, with
    the reason. A later replay that maps it sends it again with ``status`` ``mapped``."""

    kind: Literal["statement_kept"] = "statement_kept"
    event_id: uuid.UUID = Field(description="Deterministic: derived from platform, statement id and status.")
    statement_id: uuid.UUID
    platform: Slug
    academy: str = Field(description="The pupil's academy when known, '' otherwise.")
    student_id: Annotated[str, Field(pattern=r"^([0-9a-f]{32})?$")] = Field(
        description="The actor's pseudonym under that academy's key, '' when unknown."
    )
    status: Literal["unmapped", "mapped"]
    reason_code: str = Field(
        description="unknown_actor, unmapped_activity, no_event, incomplete, contract; '' once mapped."
    )
    reason: str
    verb: str
    object_id: str
    statement: str = Field(description="The statement as the gateway keeps it (JSON), pseudonymised.")
    stored: AwareDatetime = Field(description="When the gateway received it.")
    recorded_at: AwareDatetime


def statement_kept_id(platform: str, statement_id: str, status: str) -> uuid.UUID:
    """The event id of a kept statement's record: one per statement and status."""
    return uuid.uuid5(EVENT_ID_NAMESPACE, f"statement-kept\x1f{platform}\x1f{statement_id}\x1f{status}")
