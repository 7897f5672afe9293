"""Contract events -> typed warehouse rows, one table per kind. Parsing happens here, once.

Each topic the sink reads has a router: raw bytes in, ``(table, event_id, row)`` out, or an
``InvalidEventError`` (the stream already sent that message to the dead-letter topic).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vigie.contract.codec import decode_learning_event
from vigie.contract.events import AnswerSubmitted, SessionEnded, SessionStarted
from vigie.contract.topics import LEARNING_EVENTS, TopicSpec


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: tuple[str, ...]


ANSWERS = Table(
    "answers",
    ("academy", "school_uai", "class_id", "student_id", "teacher_id", "level", "subject", "skill_code",
     "item_id", "platform", "session_id", "event_id", "source_event_id", "occurred_at", "correct", "score",
     "response_time_ms", "attempt", "hints_used"),
)  # fmt: skip
SESSION_EVENTS = Table(
    "session_events",
    ("academy", "school_uai", "class_id", "student_id", "level", "platform", "session_id", "event_id", "kind",
     "outcome", "answers_count", "occurred_at"),
)  # fmt: skip

Routed = tuple[Table, uuid.UUID, list[Any]]


def answer_row(e: AnswerSubmitted) -> list[Any]:
    return [e.academy, e.school_uai, e.class_id, e.student_id, e.teacher_id, e.level, e.subject, e.skill_code,
            e.item_id, e.platform, e.session_id, e.event_id, e.source_event_id, e.occurred_at, e.correct,
            e.score, e.response_time_ms, e.attempt, e.hints_used]  # fmt: skip


def session_row(e: SessionStarted | SessionEnded) -> list[Any]:
    ended = isinstance(e, SessionEnded)
    return [e.academy, e.school_uai, e.class_id, e.student_id, e.level, e.platform, e.session_id, e.event_id,
            e.kind, e.outcome if ended else "", e.answers_count if ended else 0, e.occurred_at]  # fmt: skip


def route_learning_event(raw: bytes) -> Routed | None:
    event = decode_learning_event(raw)
    if isinstance(event, AnswerSubmitted):
        return ANSWERS, event.event_id, answer_row(event)
    if isinstance(event, SessionStarted | SessionEnded):
        return SESSION_EVENTS, event.event_id, session_row(event)
    return None  # an erasure request: `vigie erase` deletes the warehouse rows itself


#: What the sink reads, and how each topic's messages become rows.
ROUTES: dict[TopicSpec, Callable[[bytes], Routed | None]] = {
    LEARNING_EVENTS: route_learning_event,
}
