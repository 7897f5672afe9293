"""The batch decoder (msgspec mirror + pydantic for what it declines) and pydantic agree on every payload:
same accept/reject decision, same values, pydantic's own error for each rejected message."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, field_validator

from tests import factories
from vigie.core.contract.codec import (
    MAX_EVENT_BYTES,
    decode,
    decode_columns,
    decode_learning_event,
    decode_learning_event_columns,
    encode,
)
from vigie.core.contract.events import (
    AnswerSubmitted,
    ErasureRequested,
    LearnerParameters,
    MasteryUpdated,
    SignalChanged,
    SignalReason,
)
from vigie.core.contract.mirror import BatchMirror, Unsupported
from vigie.core.errors import InvalidEventError

pytestmark = pytest.mark.unit

NOW = datetime.now(UTC).replace(microsecond=0)
PUPIL = factories.PSEUDONYMS.student("eleve-1")


def _mastery() -> MasteryUpdated:
    return MasteryUpdated(
        event_id=uuid.uuid4(),
        answer_event_id=uuid.uuid4(),
        occurred_at=factories.BASE_TIME,
        academy="lyon",
        school_uai="0691234A",
        class_id=factories.PSEUDONYMS.school_class("classe-1"),
        student_id=PUPIL,
        level="CM1",
        subject="mathematiques",
        skill_code="C3-MA-NOM-01",
        correct=True,
        p_before=0.4,
        p_after=0.6,
        attempts=3,
        mastered=False,
        confidence=0.7,
    )


def _signal() -> SignalChanged:
    return SignalChanged(
        event_id=uuid.uuid4(),
        signal_id=uuid.uuid4(),
        status="raised",
        signal_type="inactivity",
        severity="high",
        reasons=(SignalReason(code="days_inactive", text="Aucune activité", value=12, threshold=7),),
        occurred_at=factories.BASE_TIME,
        first_seen_at=factories.BASE_TIME - timedelta(days=1),
        academy="lyon",
        school_uai="0691234A",
        class_id=factories.PSEUDONYMS.school_class("classe-1"),
        student_id=PUPIL,
        level="CM1",
    )


def _erasure() -> ErasureRequested:
    return ErasureRequested(event_id=uuid.uuid4(), occurred_at=factories.BASE_TIME, academy="lyon", student_id=PUPIL)


LEARNING = [factories.answer, factories.session_started, factories.session_ended, _erasure]

# Values a field may be replaced with: near misses of every format and bound, and any JSON.
_near_misses = st.sampled_from(
    [
        None,
        True,
        False,
        0,
        1,
        -1,
        1.0,
        0.5,
        1.5,
        -0.0,
        2**64,
        1e309,
        "1",
        "true",
        "",
        " ",
        "lyon",
        "paris",
        "atlantis",
        "C3-MA-NOM-01",
        "C9-XX-000",
        "CM1",
        "cm1",
        "mathematiques",
        "answer",
        "session_ended",
        "completed",
        "0691234A",
        "0691234a",
        "069123A",
        "06912345A",
        "\u0660691234A",
        PUPIL,
        PUPIL.upper(),
        PUPIL[:-1],
        PUPIL + "0",
        PUPIL + "\n",
        str(uuid.uuid4()),
        str(uuid.uuid4()).upper(),
        uuid.uuid4().hex,
        "{" + str(uuid.uuid4()) + "}",
        "urn:uuid:" + str(uuid.uuid4()),
        str(uuid.uuid4())[:-1] + "g",
        "2025-11-17T09:00:00Z",
        "2025-11-17T09:00:00.123456Z",
        "2025-11-17T09:00:00.1234567Z",
        "2025-11-17T09:00:00.9999999Z",
        "2025-11-17T09:00:00+02:00",
        "2025-11-17T09:00:00-00:00",
        "2025-11-17T09:00:00",
        "2025-11-17 09:00:00Z",
        "2025-11-17t09:00:00z",
        "2025-11-17T09:00Z",
        "2025-11-17",
        "2025-02-30T09:00:00Z",
        "2025-11-17T24:00:00Z",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        (NOW + timedelta(minutes=5)).isoformat(),
        (NOW + timedelta(minutes=15)).isoformat(),
        (NOW + timedelta(days=400)).isoformat().replace("+00:00", "Z"),
        "fondamentaux",
        "Fondamentaux",
        "-fondamentaux",
        "a" * 64,
        "a" * 65,
        "x" * 128,
        "x" * 129,
        "item 1",
        "item-1\n",
        "sess/1:2#3",
        "é",
        [],
        {},
        ["a"],
        [{"code": "x", "text": "y", "value": 1, "threshold": 2}],
        [{"code": "x", "text": "y", "value": 1}],
        [{"code": "x", "text": "y", "value": "1", "threshold": 2}],
    ]
)
_json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40)
_json = st.recursive(_json_scalars, lambda inner: st.lists(inner, max_size=3), max_leaves=5)


@st.composite
def payloads(draw: st.DrawFn, makers: list[Any]) -> bytes | None:
    """A payload: a valid event, mutated or not, as JSON bytes (or something that is not an event)."""
    shape = draw(st.sampled_from(["valid"] * 4 + ["mutated"] * 8 + ["raw"]))
    if shape == "raw":
        return draw(
            st.sampled_from([None, b"", b"{", b"[]", b"null", b"\xff\xfe not json", b" " * (MAX_EVENT_BYTES + 1)])
            | st.binary(max_size=64)
        )
    fields = json.loads(encode(draw(st.sampled_from(makers))()))
    if shape == "mutated":
        for _ in range(draw(st.integers(1, 3))):
            action = draw(st.sampled_from(["replace"] * 6 + ["drop", "extra", "json", "duplicate", "whitespace"]))
            name = draw(st.sampled_from(sorted(fields)))
            if action == "replace":
                fields[name] = draw(_near_misses)
            elif action == "json":
                fields[name] = draw(_json)
            elif action == "drop":
                fields.pop(name)
            elif action == "extra":
                fields[draw(st.sampled_from(["extra", "Kind", "student", name + "_"]))] = 1
            elif action in ("duplicate", "whitespace") and fields:
                text = json.dumps(fields, ensure_ascii=draw(st.booleans()))
                if action == "duplicate":  # the same key twice: the last one counts (both parsers)
                    text = text[:-1] + f", {json.dumps(name)}: {json.dumps(draw(_near_misses))}}}"
                else:
                    text = text.replace(":", " : ")
                return text.encode("utf-8", "surrogatepass")
    return json.dumps(fields, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")


def _same(decoded: Any, expected: Any) -> bool:
    """A batch value equals pydantic's: UUIDs as canonical text, datetimes equal and at the same offset."""
    if isinstance(expected, uuid.UUID):
        return decoded == str(expected)
    if isinstance(expected, datetime):
        return decoded == expected and decoded.utcoffset() == expected.utcoffset()
    if isinstance(expected, tuple) and expected and isinstance(expected[0], BaseModel):
        return len(decoded) == len(expected) and all(
            all(getattr(d, f) == getattr(e, f) for f in type(e).model_fields)
            for d, e in zip(decoded, expected, strict=True)
        )
    return type(decoded) is type(expected) and decoded == expected


def _pydantic(value: bytes | None, model: type[BaseModel] | None) -> BaseModel | InvalidEventError:
    try:
        return decode_learning_event(value) if model is None else decode(value, model)
    except InvalidEventError as error:
        return error


def _agree(values: list[bytes | None], model: type[BaseModel] | None) -> int:
    """Check the batch path against pydantic message by message; return how many the mirror decided."""
    groups, decided = decode_learning_event_columns(values) if model is None else decode_columns(values, model)
    seen: list[int] = []
    for group in groups:
        for row, index in enumerate(group.positions):
            expected = _pydantic(values[index], model)
            assert not isinstance(expected, InvalidEventError), (values[index], expected)
            assert type(expected) is group.model
            for name, column in group.columns.items():
                assert _same(column[row], getattr(expected, name)), (name, column[row], getattr(expected, name))
        seen += group.positions
    for index, outcome in decided:
        expected = _pydantic(values[index], model)
        if isinstance(expected, InvalidEventError):
            assert isinstance(outcome, InvalidEventError) and str(outcome) == str(expected)
            assert outcome.field == expected.field
        else:
            assert outcome == expected
        seen.append(index)
    assert sorted(seen) == list(range(len(values)))  # every message once
    return len(seen) - len(decided)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(payloads(LEARNING), min_size=1, max_size=12))
def test_learning_events_batch_agrees_with_pydantic(values: list[bytes | None]) -> None:
    _agree(values, None)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(payloads([_mastery]), min_size=1, max_size=8))
def test_mastery_batch_agrees_with_pydantic(values: list[bytes | None]) -> None:
    _agree(values, MasteryUpdated)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(payloads([_signal]), min_size=1, max_size=8))
def test_signal_batch_agrees_with_pydantic(values: list[bytes | None]) -> None:
    _agree(values, SignalChanged)


def test_canonical_events_are_decided_by_the_mirror() -> None:
    """What producers send never falls back to pydantic (else the batch path would be slow, not wrong)."""
    values = [encode(make()) for make in LEARNING for _ in range(3)]
    assert _agree(values, None) == len(values)
    assert _agree([encode(_mastery()) for _ in range(3)], MasteryUpdated) == 3
    assert _agree([encode(_signal()) for _ in range(3)], SignalChanged) == 3


def test_one_bad_message_does_not_decline_its_batch() -> None:
    good = [encode(factories.answer()) for _ in range(5)]
    future = json.loads(good[2])
    future["occurred_at"] = (NOW + timedelta(hours=1)).isoformat()
    values = [*good[:2], json.dumps(future).encode(), *good[2:], None]
    groups, decided = decode_learning_event_columns(values)
    assert [g.positions for g in groups] == [[0, 1, 3, 4, 5]]
    assert [i for i, _ in decided] == [2, 6]
    assert all(isinstance(e, InvalidEventError) for _, e in decided)
    assert "future" in str(decided[0][1]) and decided[0][1].field == "answer.occurred_at"


def test_mirror_keeps_field_order_and_defaults() -> None:
    event = factories.answer(teacher_id=None)
    raw = json.loads(encode(event))
    del raw["attempt"], raw["hints_used"], raw["version"]
    groups, decided = decode_learning_event_columns([json.dumps(raw).encode()])
    assert not decided
    assert list(groups[0].columns) == list(AnswerSubmitted.model_fields)
    assert groups[0].columns["attempt"] == [1] and groups[0].columns["hints_used"] == [0]


def test_a_validator_the_mirror_does_not_know_leaves_the_model_to_pydantic() -> None:
    class Stricter(AnswerSubmitted):
        @field_validator("item_id")
        @classmethod
        def _no_test_items(cls, value: str) -> str:
            return value

    with pytest.raises(Unsupported, match="_no_test_items"):
        BatchMirror(Stricter)
    with pytest.raises(Unsupported):
        BatchMirror(LearnerParameters)  # list[float], default_factory: not mirrored, decoded by pydantic
