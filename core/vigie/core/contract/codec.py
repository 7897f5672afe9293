"""Bytes <-> contract models. JSON through pydantic's Rust core: cheap, and readable on the wire.

One event decodes through pydantic (``decode_learning_event``, ``decode``). A *batch* of events decodes into
columns through the contract's msgspec mirror (``decode_learning_event_columns``, ``decode_columns``; see
``vigie.core.contract.mirror``), with pydantic deciding each message the mirror declines: the same accept /
reject decisions and error messages, several times cheaper when the batch is valid.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from vigie.core.contract.events import (
    EVENT_ID_NAMESPACE,
    AnswerSubmitted,
    DeadLetter,
    ErasureRequested,
    LearnerParameters,
    LearningEvent,
    MasteryUpdated,
    SessionEnded,
    SessionStarted,
    SignalChanged,
    SkillParameters,
)
from vigie.core.contract.mirror import BatchMirror, Columns, UnionBatchMirror
from vigie.core.errors import InvalidEventError

#: Larger payloads are rejected: one answer is ~600 bytes; 16 KiB leaves room and stops abuse.
MAX_EVENT_BYTES = 16 * 1024
#: A dead letter keeps at most this many bytes of the rejected payload (its size and digest are kept
#: whole): base64 of 16 KiB is ~22 KB, far below a broker's 1 MB message limit, whatever came in.
DEAD_LETTER_PAYLOAD_BYTES = MAX_EVENT_BYTES
#: ... and at most this many characters of its key.
DEAD_LETTER_KEY_CHARS = 256

_learning_event = TypeAdapter(LearningEvent)
#: What the SKILL_PARAMETERS topic carries: BKT parameters of a skill, or a part of a learner model.
ModelParameters = Annotated[SkillParameters | LearnerParameters, Field(discriminator="kind")]
_parameters: TypeAdapter[SkillParameters | LearnerParameters] = TypeAdapter(ModelParameters)
M = TypeVar("M", bound=BaseModel)

#: The batch decoders: the learning events, and the stream's two busiest outputs (read by the sink).
_learning_columns = UnionBatchMirror((AnswerSubmitted, SessionStarted, SessionEnded, ErasureRequested))
_columns: dict[type[BaseModel], BatchMirror] = {model: BatchMirror(model) for model in (MasteryUpdated, SignalChanged)}
#: What a batch decoder gives back for a message the mirror declined: pydantic's model, or its error.
Decided = list[tuple[int, Any]]


def encode(event: BaseModel) -> bytes:
    return event.model_dump_json().encode()


def explain(error: ValidationError) -> InvalidEventError:
    """Turn pydantic's report into one readable reason that names the field."""
    first = error.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or None
    more = f" (+{error.error_count() - 1} more)" if error.error_count() > 1 else ""
    return InvalidEventError(f"{first['msg']}{more}", field=field)


def _check_size(raw: object) -> bytes:
    """The message's bytes, or ``InvalidEventError`` for a tombstone, a non-bytes value or an oversize one."""
    if raw is None:
        raise InvalidEventError("a tombstone (message without a value) is not an event")
    if isinstance(raw, bytearray | memoryview):
        raw = bytes(raw)
    if not isinstance(raw, bytes | str):
        raise InvalidEventError(f"a message value is bytes, not {type(raw).__name__}")
    if len(raw) > MAX_EVENT_BYTES:
        raise InvalidEventError(f"payload of {len(raw)} bytes exceeds {MAX_EVENT_BYTES}")
    return raw if isinstance(raw, bytes) else raw.encode("utf-8", "surrogatepass")


def decode_learning_event(raw: bytes | None) -> LearningEvent:
    """Parse and validate one learning event; ``InvalidEventError`` says why not, whatever the bytes."""
    data = _check_size(raw)
    try:
        return _learning_event.validate_json(data)
    except ValidationError as error:
        raise explain(error) from None
    except (ValueError, ArithmeticError, TypeError, RecursionError) as error:  # e.g. a date out of range
        raise InvalidEventError(f"undecodable event: {type(error).__name__}: {error}") from None


def _batch(values: Sequence[bytes | None]) -> tuple[list[bytes], list[int], list[int]]:
    """(the values the mirror may try, their indices, indices of the others: tombstones, oversize...)."""
    if values and set(map(type, values)) == {bytes} and max(map(len, values)) <= MAX_EVENT_BYTES:  # type: ignore[arg-type]
        return values, list(range(len(values))), []  # type: ignore[return-value]
    fit = [i for i, v in enumerate(values) if type(v) is bytes and len(v) <= MAX_EVENT_BYTES]
    chosen = set(fit)
    return [values[i] for i in fit], fit, [i for i in range(len(values)) if i not in chosen]  # type: ignore[misc]


def decode_learning_event_columns(values: Sequence[bytes | None]) -> tuple[list[Columns], Decided]:
    """Decode a batch of learning events: columns per event kind (indices into ``values`` in each
    ``Columns.positions``), and (index, event or ``InvalidEventError``) of every message pydantic decided."""
    tried, where, others = _batch(values)
    groups, declined = _learning_columns.decode(tried)
    for group in groups:
        group.positions = [where[i] for i in group.positions]
    decided = _decided(values, sorted(others + [where[i] for i in declined]), decode_learning_event)
    return [g for g in groups if g.positions], decided


def decode_columns(values: Sequence[bytes | None], model: type[M]) -> tuple[list[Columns], Decided]:
    """``decode_learning_event_columns`` for one model (``MasteryUpdated``, ``SignalChanged``: others go
    through pydantic one by one)."""
    mirror = _columns.get(model)
    groups: list[Columns] = []
    declined: list[int] = list(range(len(values)))
    if mirror is not None:
        tried, where, others = _batch(values)
        group, skipped = mirror.decode(tried)
        group.positions = [where[i] for i in group.positions]
        groups = [group] if group.positions else []
        declined = sorted(others + [where[i] for i in skipped])
    return groups, _decided(values, declined, lambda raw: decode(raw, model))


def _decided(values: Sequence[bytes | None], indices: list[int], one: Callable[[bytes | None], Any]) -> Decided:
    """(index, event or ``InvalidEventError``) of the messages at ``indices``, each decoded by pydantic."""
    decided: Decided = []
    for index in indices:
        try:
            decided.append((index, one(values[index])))
        except InvalidEventError as error:
            decided.append((index, error))
    return decided


def decode(raw: bytes | None, model: type[M]) -> M:
    """Parse one event of a known type (mastery, signal, parameters, dead letter)."""
    data = _check_size(raw)
    try:
        return model.model_validate_json(data)
    except ValidationError as error:
        raise explain(error) from None
    except (ValueError, ArithmeticError, TypeError, RecursionError) as error:
        raise InvalidEventError(f"undecodable {model.__name__}: {type(error).__name__}: {error}") from None


def decode_parameters(raw: bytes) -> SkillParameters | LearnerParameters:
    """Parse one record of the SKILL_PARAMETERS topic (either kind)."""
    _check_size(raw)
    try:
        return _parameters.validate_json(raw)
    except ValidationError as error:
        raise explain(error) from None


def dead_letter_id(topic: str, partition: int, offset: int) -> uuid.UUID:
    """The stable id of the dead letter of the message at (topic, partition, offset)."""
    return uuid.uuid5(EVENT_ID_NAMESPACE, f"dlq\x1f{topic}\x1f{partition}\x1f{offset}")


def dead_letter(
    *,
    topic: str,
    partition: int,
    offset: int,
    key: bytes | None,
    value: bytes | None,
    error: Exception,
    academy: str | None = None,
    student_id: str | None = None,
    payload_bytes: int | None = None,
    payload_digest: str | None = None,
    redacted: tuple[str, ...] = (),
) -> DeadLetter:
    """Wrap a rejected message with its reason; its id is stable for the same (topic, partition, offset).

    The letter always fits the broker: the payload is cut to ``DEAD_LETTER_PAYLOAD_BYTES`` and the key to
    ``DEAD_LETTER_KEY_CHARS``; the original size and digest are recorded (``payload_bytes`` and
    ``payload_digest`` may be given by a caller that redacted ``value`` first: they describe the original).
    """
    kept = (value or b"")[:DEAD_LETTER_PAYLOAD_BYTES]
    text = key.decode("utf-8", "replace")[:DEAD_LETTER_KEY_CHARS] if key is not None else None
    if payload_bytes is None and value is not None:
        payload_bytes = len(value)
    if payload_digest is None and value is not None:
        payload_digest = hashlib.sha256(value).hexdigest()
    return DeadLetter(
        event_id=dead_letter_id(topic, partition, offset),
        source_topic=topic,
        partition=partition,
        offset=offset,
        reason=str(error)[:2000],
        error_type=type(error).__name__,
        key=text,
        payload_b64=base64.b64encode(kept).decode(),
        received_at=datetime.now(UTC),
        academy=academy,
        student_id=student_id,
        payload_bytes=payload_bytes,
        payload_digest=payload_digest,
        payload_truncated=len(kept) < len(value or b""),
        redacted=redacted,
    )
