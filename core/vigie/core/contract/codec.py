"""Bytes <-> contract models. JSON through pydantic's Rust core: cheap, and readable on the wire."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime
from typing import Annotated, TypeVar

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from vigie.core.contract.events import (
    EVENT_ID_NAMESPACE,
    DeadLetter,
    LearnerParameters,
    LearningEvent,
    SkillParameters,
)
from vigie.core.errors import InvalidEventError

#: Larger payloads are rejected: one answer is ~600 bytes; 16 KiB leaves room and stops abuse.
MAX_EVENT_BYTES = 16 * 1024

_learning_event = TypeAdapter(LearningEvent)
#: What the SKILL_PARAMETERS topic carries: BKT parameters of a skill, or a part of a learner model.
ModelParameters = Annotated[SkillParameters | LearnerParameters, Field(discriminator="kind")]
_parameters: TypeAdapter[SkillParameters | LearnerParameters] = TypeAdapter(ModelParameters)
M = TypeVar("M", bound=BaseModel)


def encode(event: BaseModel) -> bytes:
    return event.model_dump_json().encode()


def explain(error: ValidationError) -> InvalidEventError:
    """Turn pydantic's report into one readable reason that names the field."""
    first = error.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or None
    more = f" (+{error.error_count() - 1} more)" if error.error_count() > 1 else ""
    return InvalidEventError(f"{first['msg']}{more}", field=field)


def _check_size(raw: bytes | None) -> bytes:
    if raw is None:
        raise InvalidEventError("a null message (tombstone) carries no event")
    if len(raw) > MAX_EVENT_BYTES:
        raise InvalidEventError(f"payload of {len(raw)} bytes exceeds {MAX_EVENT_BYTES}")
    return raw


def decode_learning_event(raw: bytes | None) -> LearningEvent:
    """Parse and validate one learning event; ``InvalidEventError`` says why not (a tombstone included)."""
    checked = _check_size(raw)
    try:
        return _learning_event.validate_json(checked)
    except ValidationError as error:
        raise explain(error) from None


def decode(raw: bytes, model: type[M]) -> M:
    """Parse one event of a known type (mastery, signal, parameters, dead letter)."""
    _check_size(raw)
    try:
        return model.model_validate_json(raw)
    except ValidationError as error:
        raise explain(error) from None


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
    *, topic: str, partition: int, offset: int, key: bytes | None, value: bytes | None, error: Exception
) -> DeadLetter:
    """Wrap a rejected message with its reason; its id is stable for the same (topic, partition, offset)."""
    return DeadLetter(
        event_id=dead_letter_id(topic, partition, offset),
        source_topic=topic,
        partition=partition,
        offset=offset,
        reason=str(error),
        error_type=type(error).__name__,
        key=key.decode("utf-8", "replace") if key is not None else None,
        payload_b64=base64.b64encode(value or b"").decode(),
        received_at=datetime.now(UTC),
    )
