"""Decoded states kept between batches (``vigie.stream.state_cache``): reused only for the very value written,
so that a foreign write (a changelog recovery, a rollback) is always decoded, and results never change."""

from __future__ import annotations

import pytest

from tests import factories
from tests.unit.test_signals_state import BATCH, EVENTS, HALF, PARTITIONS, run
from vigie.core.contract.taxonomy import skills
from vigie.stream.emit import Outbox
from vigie.stream.mastery.params import ParameterBook
from vigie.stream.mastery.processor import MasteryProcessor
from vigie.stream.signals.engine import SignalEngine
from vigie.stream.state_cache import DecodedStates

pytestmark = pytest.mark.unit

SKILLS = sorted(skills())[:3]


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


def _answers(pupils: range, rounds: int, offset: int = 0) -> list:
    return [
        factories.answer(student_id=factories.student(p), skill_code=SKILLS[(r + p) % 3], correct=(r * p + offset) % 3 > 0)
        for r in range(rounds)
        for p in pupils
    ]


@pytest.mark.parametrize("model", ["learner", "bkt"])
def test_mastery_reads_a_value_it_did_not_write_from_the_table(model: str) -> None:
    """A processor whose table was overwritten (a recovery of another history) goes on from the table, not
    from the state it kept: its updates are those of a processor that only ever saw that table."""
    cached = MasteryProcessor({}, ParameterBook(), threshold=0.95, model=model)
    other = MasteryProcessor({}, ParameterBook(), threshold=0.95, model=model)
    cached.process(_answers(range(4), 3))
    other.process(_answers(range(4), 5, offset=1))
    assert len(cached.decoded) == 4
    cached.table[factories.student(0)] = bytes(other.table[factories.student(0)])  # equal bytes, another object
    later = _answers(range(4), 2, offset=2)
    fresh = MasteryProcessor(dict(cached.table), ParameterBook(), threshold=0.95, model=model)
    assert [e.value() for e in cached.process(later)] == [e.value() for e in fresh.process(later)]
    assert cached.table == fresh.table


def test_mastery_after_a_rolled_back_batch_decodes_the_restored_value() -> None:
    """The pipeline undoes a failed processor's writes (``Outbox.rollback``): the values it puts back are read,
    not the states that the failed batch had changed and kept."""
    from vigie.stream.emit import ChangelogTable

    class Table:
        def __init__(self) -> None:
            self.data: dict[str, bytes] = {}
            self.value_serializer = "raw"
            self.changelog_topic = self

        def get_topic_name(self) -> str:
            return "mastery-changelog"

    outbox = Outbox()
    processor = MasteryProcessor(ChangelogTable(Table(), outbox), ParameterBook(), threshold=0.95)
    processor.process(_answers(range(3), 2))
    outbox.drain()
    before = dict(processor.table.items())
    point = outbox.checkpoint()
    failed = _answers(range(3), 1, offset=1)
    processor.process(failed)  # written and kept, then undone as if a later pupil had failed
    outbox.rollback(point)
    assert dict(processor.table.items()) == before
    replayed = [e.value() for e in processor.process(failed)]
    fresh = MasteryProcessor(dict(before), ParameterBook(), threshold=0.95)
    assert replayed == [e.value() for e in fresh.process(failed)]
    assert processor.duplicates == 0, "the replayed answers are new to the restored states"


def test_signals_read_a_value_they_did_not_write_from_the_store() -> None:
    """The same as for mastery, against an engine that keeps no decoded state (the per-worker memory of item
    times and classes is then the same on both sides)."""
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
