"""Contract events -> typed warehouse rows, one table per kind. Parsing happens here, once.

Each topic the sink reads has a router: raw bytes in, ``(table, event_id, row)`` out, or an
``InvalidEventError`` (the stream already sent that message to the dead-letter topic).
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter, itemgetter
from typing import Any

import msgspec
from pydantic import TypeAdapter, ValidationError

from vigie.core.contract.codec import (
    Decided,
    decode,
    decode_columns,
    decode_learning_event,
    decode_learning_event_columns,
    decode_parameters,
    explain,
)
from vigie.core.contract.events import (
    EVENT_ID_NAMESPACE,
    AnswerSubmitted,
    DeadLetter,
    LearnerParameters,
    MasteryUpdated,
    SessionEnded,
    SessionStarted,
    SignalChanged,
    SkillParameters,
    StatementKept,
)
from vigie.core.contract.mirror import Columns
from vigie.core.contract.referential import ACADEMIES
from vigie.core.errors import InvalidEventError
from vigie.core.topics import (
    DEAD_LETTERS,
    LEARNING_EVENTS,
    MASTERY_UPDATES,
    RAW_STATEMENTS,
    SIGNALS,
    SKILL_PARAMETERS,
    TopicSpec,
)
from vigie.producers.xapi import EXT as XAPI_EXTENSIONS


@dataclass(frozen=True, eq=False)  # one object per table: compared and hashed by identity
class Table:
    """A warehouse table as the sink writes it: its columns, and how each is read from a contract event.

    A column is the event's field of the same name unless ``derived`` says how to compute it; the insert
    names its columns, so the order here is the only one (the DDL may list them in any order).
    """

    name: str
    columns: tuple[str, ...]
    #: The event-time column (None when the time is not part of the event: a dead letter re-made on
    #: redelivery gets a new received_at). Duplicates are not looked up by it: a retry may carry a later time.
    time_column: str | None = "occurred_at"
    derived: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)
    _getters: tuple[Callable[[Any], Any], ...] = field(init=False, repr=False, compare=False)
    _fields: Callable[[Mapping[str, Any]], Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        unknown = set(self.derived) - set(self.columns)
        if unknown:
            raise ValueError(f"{self.name}: derived columns {sorted(unknown)} are not columns")
        getters = tuple(self.derived.get(column) or attrgetter(column) for column in self.columns)
        object.__setattr__(self, "_getters", getters)
        object.__setattr__(self, "_fields", itemgetter(*self.columns))

    def row(self, event: Any) -> list[Any]:
        """The row of ``event``, in ``columns`` order.

        A pydantic event keeps its fields in ``__dict__``: one ``itemgetter`` call reads them all (the sink's
        hot path: ~5× cheaper than one getter per column); derived columns are computed and laid over.
        """
        fields = getattr(event, "__dict__", None)
        if fields is None:
            return [get(event) for get in self._getters]
        if self.derived:
            fields = {**fields, **{column: derive(event) for column, derive in self.derived.items()}}
        try:
            return list(self._fields(fields))
        except KeyError:  # not a field of this event (a plain object): read attributes one by one
            return [get(event) for get in self._getters]


ANSWERS = Table(
    "answers",
    (
        "academy",
        "school_uai",
        "class_id",
        "student_id",
        "teacher_id",
        "level",
        "subject",
        "skill_code",
        "item_id",
        "platform",
        "session_id",
        "event_id",
        "source_event_id",
        "occurred_at",
        "correct",
        "score",
        "response_time_ms",
        "attempt",
        "hints_used",
    ),
)
SESSION_EVENTS = Table(
    "session_events",
    (
        "academy",
        "school_uai",
        "class_id",
        "student_id",
        "level",
        "platform",
        "session_id",
        "event_id",
        "kind",
        "outcome",
        "answers_count",
        "occurred_at",
    ),
    derived={
        "outcome": lambda e: e.outcome if isinstance(e, SessionEnded) else "",
        "answers_count": lambda e: e.answers_count if isinstance(e, SessionEnded) else 0,
    },
)

MASTERY_UPDATES_TABLE = Table(
    "mastery_updates",
    (
        "academy",
        "school_uai",
        "class_id",
        "student_id",
        "level",
        "subject",
        "skill_code",
        "event_id",
        "answer_event_id",
        "occurred_at",
        "correct",
        "p_before",
        "p_after",
        "attempts",
        "mastered",
        "params_version",
        "model",
        "confidence",
        "previous_p_after",
        "previous_mastered",
        "previous_known",
    ),
    # The update carries the estimate it replaces, or is the first one: the running sums of group mastery
    # (migration 0023) count it. An update of a stream that does not fill previous_* is stored, not summed.
    derived={"previous_known": lambda e: e.previous_p_after is not None or e.attempts <= 1},
)
SIGNALS_TABLE = Table(
    "signals",
    (
        "academy",
        "school_uai",
        "class_id",
        "student_id",
        "level",
        "signal_type",
        "status",
        "severity",
        "skill_code",
        "event_id",
        "signal_id",
        "occurred_at",
        "first_seen_at",
        "cleared_at",
        "reasons.code",
        "reasons.text",
        "reasons.value",
        "reasons.threshold",
    ),
    derived={
        "reasons.code": lambda e: tuple(r.code for r in e.reasons),
        "reasons.text": lambda e: tuple(r.text for r in e.reasons),
        "reasons.value": lambda e: tuple(r.value for r in e.reasons),
        "reasons.threshold": lambda e: tuple(r.threshold for r in e.reasons),
    },
)
SKILL_PARAMETERS_TABLE = Table(
    "skill_parameters",
    (
        "skill_code",
        "params_version",
        "event_id",
        "p_init",
        "p_learn",
        "p_guess",
        "p_slip",
        "half_life_days",
        "n_answers",
        "fitted_at",
    ),
    time_column="fitted_at",
    derived={"event_id": lambda e: skill_parameters_id(e)},
)
LEARNER_PARAMETERS_TABLE = Table(
    "skill_parameters_learner",
    (
        "scope",
        "key",
        "params_version",
        "event_id",
        "weights",
        "prior",
        "half_life_days",
        "parts",
        "n_answers",
        "fitted_at",
    ),
    time_column="fitted_at",
    derived={"event_id": lambda e: learner_parameters_id(e)},
)
DEAD_LETTERS_TABLE = Table(
    "dead_letters",
    (
        "academy",
        "student_id",
        "source_topic",
        "partition",
        "offset",
        "event_id",
        "reason",
        "error_type",
        "key",
        "payload_b64",
        "received_at",
        "payload_bytes",
        "payload_digest",
        "payload_truncated",
        "redacted",
    ),
    time_column=None,
    # The letter's own pupil and academy (the stream knows them), else what its payload names.
    derived={
        "academy": lambda e: e.academy or dead_letter_owner(e.payload_b64)[0],
        "student_id": lambda e: e.student_id or dead_letter_owner(e.payload_b64)[1],
        "payload_digest": lambda e: e.payload_digest or "",
        "redacted": lambda e: list(e.redacted),
    },
)

RAW_STATEMENTS_TABLE = Table(
    "raw_statements",
    (
        "academy",
        "platform",
        "student_id",
        "statement_id",
        "event_id",
        "status",
        "reason_code",
        "reason",
        "verb",
        "object_id",
        "statement",
        "stored",
        "recorded_at",
    ),
    time_column="stored",
)

#: Every table the sink writes (each has an ``event_id`` column the sink deduplicates on).
TABLES: tuple[Table, ...] = (
    ANSWERS,
    SESSION_EVENTS,
    MASTERY_UPDATES_TABLE,
    SIGNALS_TABLE,
    SKILL_PARAMETERS_TABLE,
    LEARNER_PARAMETERS_TABLE,
    DEAD_LETTERS_TABLE,
    RAW_STATEMENTS_TABLE,
)

Routed = tuple[Table, uuid.UUID, list[Any]]


def answer_row(e: AnswerSubmitted) -> list[Any]:
    return ANSWERS.row(e)


def session_row(e: SessionStarted | SessionEnded) -> list[Any]:
    return SESSION_EVENTS.row(e)


def route_learning_event(raw: bytes) -> Routed | None:
    return learning_event_routed(decode_learning_event(raw))


def learning_event_routed(event: Any) -> Routed | None:
    if isinstance(event, AnswerSubmitted):
        return ANSWERS, event.event_id, answer_row(event)
    if isinstance(event, SessionStarted | SessionEnded):
        return SESSION_EVENTS, event.event_id, session_row(event)
    return None  # an erasure request: `vigie erase` deletes the warehouse rows itself


def mastery_row(e: MasteryUpdated) -> list[Any]:
    return MASTERY_UPDATES_TABLE.row(e)


def signal_row(e: SignalChanged) -> list[Any]:
    return SIGNALS_TABLE.row(e)


def skill_parameters_id(e: SkillParameters) -> uuid.UUID:
    """SkillParameters carries no event id: one version of one skill's parameters is one event."""
    return uuid.uuid5(EVENT_ID_NAMESPACE, f"skill-parameters\x1f{e.skill_code}\x1f{e.params_version}")


def skill_parameters_row(e: SkillParameters) -> list[Any]:
    return SKILL_PARAMETERS_TABLE.row(e)


_PSEUDONYM = re.compile(r"^[0-9a-f]{32}$")
#: The academy extension of an xAPI statement (``vigie.producers.xapi.EXT``).
XAPI_ACADEMY = XAPI_EXTENSIONS["academy"]


def dead_letter_owner(payload_b64: str) -> tuple[str, str]:
    """(academy, student_id) read from a rejected payload when it carries valid ones, else ''.

    A learning event names them in ``academy`` and ``student_id``; a redacted xAPI statement (``vigie xapi
    ingest``) in its actor's ``account.name`` (``pseudonym:<hex>``) and the academy context extension.
    """
    try:
        payload = json.loads(base64.b64decode(payload_b64, validate=True))
    except (ValueError, TypeError, RecursionError):
        return "", ""
    if not isinstance(payload, dict):
        return "", ""
    academy, student = payload.get("academy"), payload.get("student_id")
    actor = payload.get("actor")
    if student is None and isinstance(actor, dict) and isinstance(actor.get("account"), dict):
        name = actor["account"].get("name")
        student = name.removeprefix("pseudonym:") if isinstance(name, str) else None
    context = payload.get("context")
    if academy is None and isinstance(context, dict) and isinstance(context.get("extensions"), dict):
        academy = context["extensions"].get(XAPI_ACADEMY)
    academy = academy if isinstance(academy, str) and academy in ACADEMIES else ""
    student = student if isinstance(student, str) and _PSEUDONYM.match(student) else ""
    return academy, student


def dead_letter_row(e: DeadLetter) -> list[Any]:
    return DEAD_LETTERS_TABLE.row(e)


def route_mastery_update(raw: bytes) -> Routed:
    event = decode(raw, MasteryUpdated)
    return MASTERY_UPDATES_TABLE, event.event_id, mastery_row(event)


def route_signal(raw: bytes) -> Routed:
    event = decode(raw, SignalChanged)
    return SIGNALS_TABLE, event.event_id, signal_row(event)


def learner_parameters_id(e: LearnerParameters) -> uuid.UUID:
    """One version of one part of a learner model is one event."""
    return uuid.uuid5(EVENT_ID_NAMESPACE, f"learner-parameters\x1f{e.scope}\x1f{e.key}\x1f{e.params_version}")


def learner_parameters_row(e: LearnerParameters) -> list[Any]:
    return LEARNER_PARAMETERS_TABLE.row(e)


def route_skill_parameters(raw: bytes) -> Routed:
    """The topic carries BKT parameters of a skill, or a part of a learner model."""
    event = decode_parameters(raw)
    if isinstance(event, LearnerParameters):
        return LEARNER_PARAMETERS_TABLE, learner_parameters_id(event), learner_parameters_row(event)
    return SKILL_PARAMETERS_TABLE, skill_parameters_id(event), skill_parameters_row(event)


def route_dead_letter(raw: bytes) -> Routed:
    event = decode(raw, DeadLetter)
    return DEAD_LETTERS_TABLE, event.event_id, dead_letter_row(event)


#: A kept statement may be larger than an event (an interaction's definition): up to 1 MiB.
MAX_KEPT_STATEMENT_BYTES = 1024 * 1024
_statement_kept = TypeAdapter(StatementKept)


def statement_kept_row(e: StatementKept) -> list[Any]:
    return [
        e.academy,
        e.platform,
        e.student_id,
        e.statement_id,
        e.event_id,
        e.status,
        e.reason_code,
        e.reason,
        e.verb,
        e.object_id,
        e.statement,
        e.stored,
        e.recorded_at,
    ]


def route_statement_kept(raw: bytes) -> Routed:
    if len(raw) > MAX_KEPT_STATEMENT_BYTES:
        raise InvalidEventError(f"kept statement of {len(raw)} bytes exceeds {MAX_KEPT_STATEMENT_BYTES}")
    try:
        event = _statement_kept.validate_json(raw)
    except ValidationError as error:
        raise explain(error) from None
    return RAW_STATEMENTS_TABLE, event.event_id, statement_kept_row(event)


#: Rows of one table from a batch: (table, the messages' indices, their event ids, their pupils (None when
#: the table has none), the rows). Ids and UUIDs are canonical text (``Columns``'s representation).
Block = tuple[Table, list[int], Sequence[Any], Sequence[Any] | None, list[Sequence[Any]]]
#: A message the mirror declined, as pydantic decided it: (index, routed row, or None, or the error).
Outcome = list[tuple[int, Routed | InvalidEventError | None]]


def _texts(routed: Routed | None) -> Routed | None:
    """A row routed from a pydantic event, with its UUIDs as text, as the batch rows hold them."""
    if routed is None:
        return None
    table, event_id, row = routed
    return table, str(event_id), [str(v) if type(v) is uuid.UUID else v for v in row]  # type: ignore[return-value]


def _session_outcome(group: Columns) -> Sequence[Any]:
    return group.columns["outcome"] if group.model is SessionEnded else [""] * len(group.positions)


def _session_answers(group: Columns) -> Sequence[Any]:
    return group.columns["answers_count"] if group.model is SessionEnded else [0] * len(group.positions)


_REASON_PARTS = ("code", "text", "value", "threshold")


def _reason_columns(group: Columns) -> dict[str, list[tuple[Any, ...]]]:
    """The four ``reasons.*`` columns (kept on the group: asked four times): every signal's reasons
    flattened into one list, transposed in one ``zip``, then cut back per signal by slicing (C loops; a
    transpose per signal cost ~2.5x more)."""
    cached = group.derived.get("reasons")
    if cached is None:
        reasons = group.columns["reasons"]
        flat = list(map(msgspec.structs.astuple, itertools.chain.from_iterable(reasons)))
        parts = list(zip(*flat, strict=True)) if flat else [()] * len(_REASON_PARTS)
        bounds = list(itertools.accumulate(map(len, reasons), initial=0))
        spans = list(itertools.pairwise(bounds))
        cached = group.derived["reasons"] = {
            name: [part[start:end] for start, end in spans] for name, part in zip(_REASON_PARTS, parts, strict=True)
        }
    return cached


def _reasons(part: str) -> Callable[[Columns], Sequence[Any]]:
    return lambda group: _reason_columns(group)[part]


def _previous_known(group: Columns) -> Sequence[Any]:
    previous, attempts = group.columns["previous_p_after"], group.columns["attempts"]
    return [p is not None or a <= 1 for p, a in zip(previous, attempts, strict=True)]


#: How a table's derived columns are computed from a batch's columns (the batch twin of ``Table.derived``).
COLUMN_DERIVED: dict[str, dict[str, Callable[[Columns], Sequence[Any]]]] = {
    SESSION_EVENTS.name: {"outcome": _session_outcome, "answers_count": _session_answers},
    MASTERY_UPDATES_TABLE.name: {"previous_known": _previous_known},
    SIGNALS_TABLE.name: {f"reasons.{p}": _reasons(p) for p in _REASON_PARTS},
}


def block(table: Table, group: Columns) -> Block:
    """The rows of ``table`` from a batch's columns, straight from the decoded values."""
    derived = COLUMN_DERIVED.get(table.name, {})
    if set(table.derived) - set(derived):
        raise ValueError(f"{table.name}: derived columns without a batch twin")
    columns = [derived[c](group) if c in derived else group.columns[c] for c in table.columns]
    pupils = group.columns.get("student_id")
    return table, group.positions, group.columns["event_id"], pupils, list(zip(*columns, strict=True))


def _outcomes(decided: Decided, route: Callable[[Any], Routed | None]) -> Outcome:
    return [(i, e if isinstance(e, InvalidEventError) else _texts(route(e))) for i, e in decided]


def route_learning_events(values: Sequence[bytes]) -> tuple[list[Block], Outcome]:
    groups, decided = decode_learning_event_columns(values)
    tables = {AnswerSubmitted: ANSWERS, SessionStarted: SESSION_EVENTS, SessionEnded: SESSION_EVENTS}
    blocks = [block(tables[g.model], g) for g in groups if g.model in tables]  # an erasure: no row
    return blocks, _outcomes(decided, learning_event_routed)


def route_mastery_updates(values: Sequence[bytes]) -> tuple[list[Block], Outcome]:
    groups, decided = decode_columns(values, MasteryUpdated)
    routed = lambda e: (MASTERY_UPDATES_TABLE, e.event_id, mastery_row(e))  # noqa: E731
    return [block(MASTERY_UPDATES_TABLE, g) for g in groups], _outcomes(decided, routed)


def route_signals(values: Sequence[bytes]) -> tuple[list[Block], Outcome]:
    groups, decided = decode_columns(values, SignalChanged)
    routed = lambda e: (SIGNALS_TABLE, e.event_id, signal_row(e))  # noqa: E731
    return [block(SIGNALS_TABLE, g) for g in groups], _outcomes(decided, routed)


#: The topics whose batches decode into columns (the others go message by message through ``ROUTES``).
BATCH_ROUTES: dict[TopicSpec, Callable[[Sequence[bytes]], tuple[list[Block], Outcome]]] = {
    LEARNING_EVENTS: route_learning_events,
    MASTERY_UPDATES: route_mastery_updates,
    SIGNALS: route_signals,
}

#: What the sink reads, and how each topic's messages become rows.
ROUTES: dict[TopicSpec, Callable[[bytes], Routed | None]] = {
    LEARNING_EVENTS: route_learning_event,
    MASTERY_UPDATES: route_mastery_update,
    SIGNALS: route_signal,
    SKILL_PARAMETERS: route_skill_parameters,
    DEAD_LETTERS: route_dead_letter,
    RAW_STATEMENTS: route_statement_kept,
}
