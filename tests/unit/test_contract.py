from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests import factories
from vigie.core.contract.codec import MAX_EVENT_BYTES, decode_learning_event, encode
from vigie.core.contract.events import AnswerSubmitted, SessionEnded, make_event_id
from vigie.core.errors import InvalidEventError

pytestmark = pytest.mark.unit


def test_answer_round_trips_through_bytes() -> None:
    event = factories.answer()
    assert decode_learning_event(encode(event)) == event


def test_session_events_decode_to_their_own_type() -> None:
    ended = factories.session_ended(outcome="abandoned", answers_count=0)
    decoded = decode_learning_event(encode(ended))
    assert isinstance(decoded, SessionEnded)
    assert decoded.outcome == "abandoned"


def test_event_id_is_deterministic_per_platform_event() -> None:
    assert make_event_id("mia", "42") == make_event_id("mia", "42")
    assert make_event_id("mia", "42") != make_event_id("elea", "42")


def test_event_time_is_normalised_to_utc() -> None:
    paris = datetime(2025, 11, 17, 10, 0, tzinfo=UTC).astimezone(__import__("zoneinfo").ZoneInfo("Europe/Paris"))
    assert factories.answer(occurred_at=paris).occurred_at.tzinfo == UTC


def _payload(**changes: object) -> bytes:
    body = json.loads(encode(factories.answer()))
    for key, value in changes.items():
        if value is ...:
            body.pop(key)
        else:
            body[key] = value
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"skill_code": "XX-NOPE"}, "answer.skill_code", "unknown skill"),
        ({"academy": "atlantis"}, "answer.academy", "unknown academy"),
        ({"student_id": "jean.dupont"}, "answer.student_id", "pattern"),
        ({"correct": ...}, "answer.correct", "required"),
        ({"score": 1.5}, "answer.score", "less than or equal"),
        ({"occurred_at": "2025-11-17T09:00:00"}, "answer.occurred_at", "timezone"),
        ({"occurred_at": (datetime.now(UTC) + timedelta(days=2)).isoformat()}, "answer.occurred_at", "future"),
        ({"nickname": "Jean"}, "answer.nickname", "extra"),
        ({"kind": "teleport"}, None, "kind"),
    ],
)
def test_invalid_answers_are_rejected_with_the_field_and_the_reason(changes, field, words) -> None:
    with pytest.raises(InvalidEventError) as caught:
        decode_learning_event(_payload(**changes))
    assert words in str(caught.value).lower() or words in (caught.value.field or "")
    if field is not None:
        assert caught.value.field == field


def test_garbage_and_oversize_payloads_are_rejected() -> None:
    with pytest.raises(InvalidEventError):
        decode_learning_event(b"\xff\xfe not json")
    with pytest.raises(InvalidEventError, match="exceeds"):
        decode_learning_event(b" " * (MAX_EVENT_BYTES + 1))


def test_models_are_frozen() -> None:
    event = factories.answer()
    with pytest.raises(Exception, match="frozen"):
        event.correct = False  # type: ignore[misc]
    assert isinstance(event, AnswerSubmitted)
