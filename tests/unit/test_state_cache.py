"""Decoded states kept between batches (``vigie.stream.state_cache``): reused only for the very value written,
so that a foreign write (a changelog recovery, a rollback) is always decoded, and results never change."""

from __future__ import annotations

import uuid

import pytest

from tests.unit.test_signals_state import BATCH, EVENTS, HALF, PARTITIONS, run
from vigie.core.contract.events import ErasureRequested
from vigie.stream.emit import ChangelogTable, Outbox
from vigie.stream.signals.engine import SignalEngine
from vigie.stream.state_cache import DecodedStates

pytestmark = pytest.mark.unit


def test_an_object_is_handed_over_once_and_only_for_the_value_it_was_kept_with() -> None:
    cache: DecodedStates[list[int]] = DecodedStates(limit=2)
    value, state = b"v1", [1]
    cache.keep("a", value, state)
    assert cache.take("a", b"v1".join([b""])) is None, "an equal value that is another object is decoded"
    cache.keep("a", value, state)
    assert cache.take("a", value) is state
    assert cache.take("a", value) is None, "taken: a batch that fails with it leaves nothing half-changed"
    assert cache.take("a", None) is None
    for pupil in "abc":
        cache.keep(pupil, value, state)
    assert len(cache) == 2 and cache.take("a", value) is None, "bounded, oldest written first out"
    assert DecodedStates(limit=0).take("a", value) is None


def test_signals_read_a_value_they_did_not_write_from_the_store() -> None:
    """An engine whose store was overwritten (a recovery of another history) goes on from the store, not from
    the states it kept: it emits what an engine keeping no decoded state emits (the per-worker memory of item
    times and classes is the same on both sides)."""
    cached = SignalEngine({}, partitions=PARTITIONS)
    plain = SignalEngine({}, partitions=PARTITIONS, decoded_pupils=0)
    earlier = SignalEngine({}, partitions=PARTITIONS)
    assert run(cached, EVENTS[:HALF]) == run(plain, EVENTS[:HALF])
    run(earlier, EVENTS[: HALF // 2])
    assert len(cached.decoded) > 0 and len(plain.decoded) == 0
    moved = [p for p in earlier.store if earlier.store[p] != cached.store[p]]
    assert moved, "the earlier history left other states"
    for engine in (cached, plain):
        engine.store.update({p: bytes(earlier.store[p]) for p in moved})  # a recovery of another history
    rest = EVENTS[HALF : HALF + 4 * BATCH]
    assert run(cached, rest) == run(plain, rest)
    assert cached.store == plain.store


def reusable(engine: SignalEngine) -> set[str]:
    """The pupils whose kept state would be reused (kept with the very value the table holds)."""
    return {p for p, (stored, _) in engine.decoded._entries.items() if engine.store.get(p) is stored}


def test_signals_after_a_rolled_back_batch_read_the_restored_values() -> None:
    """The pipeline undoes a failed processor's table writes and in-memory changes (``Outbox.rollback``) and
    replays its batch: the values put back are read, not the states the undone batch had changed and kept."""

    class Table:  # what ChangelogTable needs of a faust table
        def __init__(self) -> None:
            self.data: dict[str, bytes] = {}
            self.value_serializer = "raw"
            self.changelog_topic = self

        def get_topic_name(self) -> str:
            return "signals-state-changelog"

    outbox = Outbox()
    cached = SignalEngine(ChangelogTable(Table(), outbox), partitions=PARTITIONS, journal=outbox.journal)
    plain = SignalEngine({}, partitions=PARTITIONS, decoded_pupils=0)
    assert run(cached, EVENTS[:HALF]) == run(plain, EVENTS[:HALF])
    outbox.drain()
    before = dict(cached.store.items())
    point = outbox.checkpoint()
    undone = EVENTS[HALF : HALF + BATCH]
    pupils = {event.student_id for event in undone}
    cached.process(undone)
    assert pupils <= reusable(cached), "the batch kept its states"
    outbox.rollback(point)
    assert dict(cached.store.items()) == before
    assert not pupils & reusable(cached), "none is of a value the table holds again: each is decoded"
    assert cached.process(undone) == plain.process(undone)
    assert cached.duplicates == plain.duplicates == 0, "the replayed events are new to the restored states"
    assert dict(cached.store.items()) == plain.store


def test_an_erased_pupil_is_forgotten_by_the_cache_too() -> None:
    engine = SignalEngine({}, partitions=PARTITIONS)
    run(engine, EVENTS[:HALF])
    pupil = next(p for p in engine.store if p in engine.decoded)
    erasure = ErasureRequested(event_id=uuid.uuid4(), occurred_at=EVENTS[HALF].occurred_at, academy="lyon",
                               student_id=pupil)  # fmt: skip
    engine.process([erasure])
    assert pupil not in engine.store and pupil not in engine.decoded
