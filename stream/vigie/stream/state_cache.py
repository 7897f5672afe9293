"""Decoded pupil states kept between batches, so that a state is decoded once, not at every batch.

A worker's batch often holds one answer of each pupil: decoding the pupil's stored value at every batch
cost the signals engine about a fifth of its time (a dataclass of twenty fields, its risk features, its
open signals). The engine therefore keeps, next to the value it wrote to its table, the object that value
encodes. (The mastery processor does not: its state decodes in one ``orjson.loads`` into plain lists, and
keeping it measured no faster.) At the next batch, the object is reused only if the
table still holds *that very value* (an identity check, ``is``): any other write — a changelog recovery,
a rollback of a failed batch (``Outbox.rollback``), a test or tool writing the table — makes the check fail
and the value is decoded as before. The cached object is an exact twin of its value (the processor
encodes it at the end of the batch, after its last change), so the results are the same as decoding,
which the tests check (batches against one event at a time).

So a rolled-back attempt leaves nothing here that could be served, and the rollback need not journal this
cache (``vigie.stream.undo``): what the attempt kept goes with the values it wrote, which the rollback
replaces; what it found here it took (below), and the values put back are decoded again.

``take`` hands the object over and forgets it: while a batch changes it, it is not in the cache, so a
batch that fails halfway can never leave a half-changed object behind. ``keep`` puts it back with the
value just written. Bounded: least recently written first out.
"""

from __future__ import annotations

from typing import Generic, TypeVar

S = TypeVar("S")

#: Pupils whose decoded state is kept by default (per processor); past this, the least recently written go.
DEFAULT_DECODED_PUPILS = 50_000


class DecodedStates(Generic[S]):
    """Per pupil: (the stored value last written, the object it encodes)."""

    __slots__ = ("_entries", "limit")

    def __init__(self, limit: int = DEFAULT_DECODED_PUPILS) -> None:
        self.limit = limit
        self._entries: dict[str, tuple[object, S]] = {}

    def take(self, pupil: str, stored: object) -> S | None:
        """The object ``stored`` encodes, if it is the value this cache was given for ``pupil``; ``None``
        otherwise (then decode ``stored``). Either way the pupil's entry is gone."""
        entry = self._entries.pop(pupil, None)
        if entry is None or entry[0] is not stored or stored is None:
            return None
        return entry[1]

    def keep(self, pupil: str, stored: object, state: S) -> None:
        """``state`` is what ``stored``, just written to the table for ``pupil``, encodes (it must not change
        before the next ``take``)."""
        if self.limit <= 0:
            return
        entries = self._entries
        entries.pop(pupil, None)
        entries[pupil] = (stored, state)
        if len(entries) > self.limit:
            del entries[next(iter(entries))]

    def forget(self, pupil: str) -> None:
        self._entries.pop(pupil, None)

    def clear(self) -> None:
        self._entries.clear()

    def __contains__(self, pupil: object) -> bool:
        return pupil in self._entries

    def __len__(self) -> int:
        return len(self._entries)
