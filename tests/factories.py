"""Factories of valid contract events for tests: override only what a test is about."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from vigie.core.contract.events import AnswerSubmitted, SessionEnded, SessionStarted, make_event_id
from vigie.producers.pseudonym import Pseudonymizer

PSEUDONYMS = Pseudonymizer(b"test-key-0123456789abcdef")
_counter = itertools.count(1)
BASE_TIME = datetime(2025, 11, 17, 9, 0, tzinfo=UTC)  # a Monday in term time


def _common(**overrides: Any) -> dict[str, Any]:
    n = next(_counter)
    source = overrides.pop("source_event_id", f"evt-{n}")
    platform = overrides.pop("platform", "fondamentaux")
    base = {
        "event_id": make_event_id(platform, source),
        "source_event_id": source,
        "platform": platform,
        "occurred_at": BASE_TIME + timedelta(seconds=n),
        "academy": "lyon",
        "school_uai": "0691234A",
        "class_id": PSEUDONYMS.school_class("classe-1"),
        "student_id": PSEUDONYMS.student("eleve-1"),
        "level": "CM1",
        "session_id": "sess-1",
    }
    base.update(overrides)
    return base


def answer(**overrides: Any) -> AnswerSubmitted:
    fields = {
        "subject": "mathematiques",
        "skill_code": "C3-MA-NOM-01",
        "item_id": "item-1",
        "correct": True,
        "score": 1.0,
        "response_time_ms": 12_000,
        "attempt": 1,
        "hints_used": 0,
    }
    fields.update(overrides)
    return AnswerSubmitted(**_common(**fields))


def session_started(**overrides: Any) -> SessionStarted:
    return SessionStarted(**_common(**overrides))


def session_ended(**overrides: Any) -> SessionEnded:
    fields = {"outcome": "completed", "answers_count": 5}
    fields.update(overrides)
    return SessionEnded(**_common(**fields))


def student(n: int) -> str:
    return PSEUDONYMS.student(f"eleve-{n}")


def pupil(**overrides: Any):
    """A pupil as a platform knows them: RAW ids, for the SDK's builder to pseudonymise."""
    from vigie.producers.builder import Pupil

    fields = {
        "academy": "lyon",
        "school_uai": "0691234A",
        "student": "ent-48213",
        "school_class": "cm1-b-2025",
        "level": "CM1",
        "teacher": "prof-2291",
    }
    fields.update(overrides)
    return Pupil(**fields)


def builder(platform: str = "mathix", key: str = "test-key-0123456789abcdef", **privacy: Any):
    """An SDK event builder whose academies all use ``key`` unless ``privacy`` says otherwise."""
    from vigie.core.settings import PrivacySettings
    from vigie.producers.builder import EventBuilder

    return EventBuilder(platform, PrivacySettings(default_key=key, **privacy))
