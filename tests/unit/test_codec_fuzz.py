"""Whatever bytes arrive, the decoders raise only the project's InvalidEventError, and a dead letter fits
the broker whatever it wraps."""

from __future__ import annotations

import base64
import contextlib
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import factories
from vigie.core.contract.codec import (
    DEAD_LETTER_PAYLOAD_BYTES,
    MAX_EVENT_BYTES,
    dead_letter,
    decode,
    decode_learning_event,
    encode,
)
from vigie.core.contract.events import DeadLetter, MasteryUpdated
from vigie.core.errors import InvalidEventError

pytestmark = pytest.mark.unit

_json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=40)
_json = st.recursive(
    _json_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
)
_answer_fields = json.loads(encode(factories.answer()))


def _decodes_or_refuses(raw: object) -> None:
    for decoder in (decode_learning_event, lambda r: decode(r, MasteryUpdated), lambda r: decode(r, DeadLetter)):
        with contextlib.suppress(InvalidEventError):  # anything else escapes and fails the test
            decoder(raw)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_raise_only_invalid_event_error(raw: bytes) -> None:
    _decodes_or_refuses(raw)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(sorted(_answer_fields)),
    _json | st.sampled_from(["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "1e999"]),
)
def test_an_answer_with_any_field_replaced_raises_only_invalid_event_error(field: str, value: object) -> None:
    """Near-valid events reach the validators (dates at the calendar's edges once made OverflowError escape)."""
    _decodes_or_refuses(json.dumps({**_answer_fields, field: value}).encode())


@pytest.mark.parametrize(
    "raw",
    [
        None,
        b"",
        b"null",
        b"[]",
        b"\xff\xfe",
        bytearray(b"{}"),
        42,
        b'{"kind":"answer","occurred_at":"0001-01-01T00:00:00+14:00"}',
        b"[" * 5000 + b"]" * 5000,
        b" " * (MAX_EVENT_BYTES + 1),
    ],
)
def test_known_poison_values_are_invalid_events(raw: object) -> None:
    with pytest.raises(InvalidEventError):
        decode_learning_event(raw)  # type: ignore[arg-type]


def test_a_tombstone_says_so() -> None:
    with pytest.raises(InvalidEventError, match="tombstone"):
        decode_learning_event(None)


@settings(max_examples=50, deadline=None)
@given(st.binary(min_size=0, max_size=3 * 1024 * 1024), st.binary(max_size=5000) | st.none())
def test_a_dead_letter_fits_the_broker_and_records_the_original(value: bytes, key: bytes | None) -> None:
    letter = dead_letter(topic="t", partition=1, offset=7, key=key, value=value, error=InvalidEventError("x"))
    encoded = encode(letter)
    assert len(encoded) < 64 * 1024, "far below the broker's 1 MB limit"
    assert letter.payload_bytes == len(value)
    assert letter.payload_truncated == (len(value) > DEAD_LETTER_PAYLOAD_BYTES)
    assert base64.b64decode(letter.payload_b64) == value[:DEAD_LETTER_PAYLOAD_BYTES]
    assert decode(encoded, DeadLetter) == letter


def test_a_dead_letter_of_a_tombstone_has_no_size() -> None:
    letter = dead_letter(topic="t", partition=0, offset=0, key=b"k", value=None, error=InvalidEventError("x"))
    assert letter.payload_bytes is None and letter.payload_b64 == "" and not letter.payload_truncated
