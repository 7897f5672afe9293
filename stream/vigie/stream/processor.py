"""What the stream's pipeline asks of a per-pupil processor (mastery, signals, ...).

A processor receives a batch of valid learning events, in partition order, and returns the
events it emits. It keeps its state in its own faust table, keyed by pupil; it must be
idempotent for a redelivered event (same ``event_id``), since delivery is at least once.
A processor that raises on a batch is undone and replayed event by event (``vigie.stream.pipeline``):
any data it keeps in memory besides its table must journal its changes in the outbox's journal
(``vigie.stream.undo``), as the signals engine does, or the replay would count the batch twice there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol

from pydantic import BaseModel

from vigie.core.contract.codec import encode
from vigie.core.contract.events import LearningEvent
from vigie.core.topics import TopicSpec


class Emission(NamedTuple):
    """One output event for a topic, keyed (pupil-keyed topics: the pupil pseudonym).

    ``event`` is a contract model, or its JSON bytes already encoded by a processor that builds them
    faster than ``model_dump_json`` (such a processor tests that its bytes decode to the same model).
    A named tuple: one is built per answer, at under half the cost of a frozen dataclass.
    """

    topic: TopicSpec
    key: str
    event: BaseModel | bytes

    def value(self) -> bytes:
        """The bytes to produce."""
        return self.event if isinstance(self.event, bytes) else encode(self.event)


class PupilProcessor(Protocol):
    name: str

    def process(self, events: Sequence[LearningEvent]) -> list[Emission]:
        """Apply a batch of valid events; return what to emit."""
        ...
