"""The SDK's builder: raw ids in, pseudonymised events out, and a clear error for every bad value."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from tests import factories
from vigie.core.contract.codec import decode_learning_event, encode
from vigie.core.contract.events import AnswerSubmitted, ErasureRequested, SessionEnded, SessionStarted, make_event_id
from vigie.core.errors import InvalidEventError
from vigie.core.settings import PrivacySettings
from vigie.producers.builder import EventBuilder, Pupil

pytestmark = pytest.mark.unit

WHEN = datetime(2025, 11, 17, 10, 0, tzinfo=timezone(timedelta(hours=1)))


def _answer(pupil: Pupil | None = None, **changes: Any) -> AnswerSubmitted:
    fields: dict[str, Any] = {
        "source_event_id": "attempt-991",
        "session_id": "s-12",
        "skill_code": "C3-MA-NOM-01",
        "item_id": "q-17",
        "correct": True,
        "response_time_ms": 8400,
        "occurred_at": WHEN,
    }
    fields.update(changes)
    return factories.builder().answer(pupil or factories.pupil(), **fields)


def test_an_answer_from_raw_ids_round_trips_through_bytes() -> None:
    event = _answer()
    assert decode_learning_event(encode(event)) == event
    assert event.event_id == make_event_id("mathix", "attempt-991")
    assert event.occurred_at == datetime(2025, 11, 17, 9, 0, tzinfo=UTC) and event.occurred_at.tzinfo == UTC
    assert (event.subject, event.score, event.attempt, event.hints_used) == ("mathematiques", 1.0, 1, 0)
    assert _answer(correct=False).score == 0.0
    assert _answer(correct=False, score=0.5, attempt=2, hints_used=1).score == 0.5


def test_no_raw_identifier_is_left_in_the_encoded_event() -> None:
    raw = encode(_answer()).decode()
    for secret in ("ent-48213", "cm1-b-2025", "prof-2291"):
        assert secret not in raw


def test_session_and_erasure_events() -> None:
    builder = factories.builder()
    started = builder.session_started(
        factories.pupil(), source_event_id="s-12:start", session_id="s-12", occurred_at=WHEN
    )
    ended = builder.session_ended(
        factories.pupil(),
        source_event_id="s-12:end",
        session_id="s-12",
        outcome="abandoned",
        answers_count=3,
        occurred_at=WHEN,
    )
    assert isinstance(started, SessionStarted) and isinstance(ended, SessionEnded)
    assert started.student_id == ended.student_id == _answer().student_id
    erased = builder.erasure(academy="lyon", student="ent-48213")
    assert isinstance(erased, ErasureRequested) and erased.student_id == started.student_id
    assert erased.event_id == builder.erasure(academy="lyon", student="ent-48213").event_id
    assert "ent-48213" not in encode(erased).decode()


def test_the_time_defaults_to_now_and_iso_strings_are_accepted() -> None:
    before = datetime.now(UTC)
    assert before <= _answer(occurred_at=None).occurred_at <= datetime.now(UTC)
    assert _answer(occurred_at="2025-11-17T10:00:00+01:00").occurred_at == WHEN


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"skill_code": "C3-MA-NOPE-01"}, "skill_code", "unknown skill code"),
        ({"subject": "francais"}, "subject", "belongs to 'mathematiques'"),
        ({"correct": "yes"}, "correct", "valid boolean"),
        ({"response_time_ms": 8.5}, "response_time_ms", "valid integer"),
        ({"response_time_ms": -1}, "response_time_ms", "greater than or equal"),
        ({"response_time_ms": 5_000_000}, "response_time_ms", "less than or equal"),
        ({"score": 1.5}, "score", "less than or equal"),
        ({"attempt": 0}, "attempt", "greater than or equal"),
        ({"hints_used": "2"}, "hints_used", "valid integer"),
        ({"item_id": ""}, "item_id", "at least 1"),
        ({"item_id": "q 17?"}, "item_id", "pattern"),
        ({"session_id": None}, "session_id", "valid string"),
        ({"source_event_id": 42}, "source_event_id", "a string"),
        ({"occurred_at": datetime(2025, 11, 17, 10, 0)}, "occurred_at", "timezone-aware"),
        ({"occurred_at": "yesterday"}, "occurred_at", "iso 8601"),
        ({"occurred_at": 1763370000}, "occurred_at", "expected a datetime"),
        ({"occurred_at": datetime.now(UTC) + timedelta(days=1)}, "occurred_at", "in the future"),
    ],
)
def test_bad_answer_values_raise_naming_the_field_and_the_reason(changes, field, words) -> None:
    with pytest.raises(InvalidEventError) as caught:
        _answer(**changes)
    assert caught.value.field == field
    assert words in str(caught.value).lower()


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"academy": "atlantis"}, "academy", "unknown academy 'atlantis'; known codes: aix-marseille"),
        ({"school_uai": "69-123"}, "school_uai", "pattern"),
        ({"level": "CM3"}, "level", "'cp'"),
        ({"student": ""}, "student", "non-empty string"),
        ({"student": 48213}, "student", "non-empty string"),
        ({"school_class": "x" * 300}, "school_class", "longer than 256"),
        ({"teacher": "  "}, "teacher", "non-empty string"),
    ],
)
def test_bad_pupil_values_raise_naming_the_field(changes, field, words) -> None:
    with pytest.raises(InvalidEventError) as caught:
        _answer(factories.pupil(**changes))
    assert caught.value.field == field
    assert words in str(caught.value).lower()


def test_a_bad_platform_slug_or_a_missing_pupil_is_refused() -> None:
    with pytest.raises(InvalidEventError) as caught:
        EventBuilder("Mathix Pro", PrivacySettings())
    assert caught.value.field == "platform"
    with pytest.raises(InvalidEventError, match="expected a Pupil"):
        factories.builder().session_started({"student": "x"}, source_event_id="a", session_id="s")  # type: ignore[arg-type]


def test_the_event_is_what_the_contract_would_decode() -> None:
    body = json.loads(encode(_answer()))
    assert set(body) == set(AnswerSubmitted.model_fields)


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"academy": "atlantis"}, "academy"), ({"student": ""}, "student"), ({"occurred_at": "soon"}, "occurred_at")],
)
def test_bad_erasure_requests_name_the_field(changes, field) -> None:
    fields = {"academy": "lyon", "student": "ent-48213"} | changes
    with pytest.raises(InvalidEventError) as caught:
        factories.builder().erasure(**fields)
    assert caught.value.field == field
