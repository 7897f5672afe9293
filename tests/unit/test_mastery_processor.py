"""The mastery processor without Kafka: batching, duplicates, erasure, emitted events."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import factories
from vigie.core.contract.events import ErasureRequested, MasteryUpdated
from vigie.core.contract.taxonomy import skills
from vigie.core.topics import MASTERY_UPDATES
from vigie.stream.mastery.model import DEFAULT_PARAMS, BktParams
from vigie.stream.mastery.params import ParameterBook
from vigie.stream.mastery.processor import MasteryProcessor, mastery_event_id
from vigie.stream.mastery.state import PupilMastery

pytestmark = pytest.mark.unit

SKILLS = sorted(skills())[:3]


def _answers(plan: list[tuple[int, int, bool]]):
    """One answer per (pupil, skill index, correct), in order."""
    return [factories.answer(student_id=factories.student(p), skill_code=SKILLS[s], correct=c) for p, s, c in plan]


def _processor(table=None, book=None) -> MasteryProcessor:
    return MasteryProcessor({} if table is None else table, book or ParameterBook(), threshold=0.95, model="bkt")


def _erasure(pupil: str) -> ErasureRequested:
    return ErasureRequested(event_id=uuid.uuid4(), occurred_at=datetime.now(UTC), academy="lyon", student_id=pupil)


plans = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2), st.booleans()), min_size=1, max_size=30)


@settings(max_examples=50, deadline=None)
@given(plan=plans, cuts=st.lists(st.integers(0, 30), max_size=6))
def test_batching_does_not_change_results(plan, cuts) -> None:
    events = _answers(plan)
    whole = _processor()
    expected = [e.event for e in whole.process(events)]
    batched = _processor()
    got = []
    bounds = sorted({0, len(events), *(c for c in cuts if c < len(events))})
    for start, end in itertools.pairwise(bounds):
        got += [e.event for e in batched.process(events[start:end])]
    assert sorted(got, key=lambda e: str(e.event_id)) == sorted(expected, key=lambda e: str(e.event_id))
    assert batched.table == whole.table


def test_one_update_per_answer_with_deterministic_ids_keyed_by_pupil() -> None:
    events = _answers([(1, 0, True), (1, 0, True), (2, 1, False)])
    emissions = _processor().process(events)
    assert [e.topic for e in emissions] == [MASTERY_UPDATES] * 3
    assert [e.key for e in emissions] == [events[0].student_id, events[1].student_id, events[2].student_id]
    first, second, other = (e.event for e in emissions)
    assert isinstance(first, MasteryUpdated)
    assert first.event_id == mastery_event_id(events[0].event_id) and first.answer_event_id == events[0].event_id
    assert first.p_before == pytest.approx(DEFAULT_PARAMS.p_init)
    assert second.p_before == pytest.approx(first.p_after) and second.attempts == 2
    assert other.p_after < other.p_before, "a wrong first answer lowers the estimate"
    assert first.occurred_at == events[0].occurred_at and first.params_version == 0


def test_a_redelivered_answer_does_not_move_the_estimate_and_is_reemitted_identically() -> None:
    table: dict[str, bytes] = {}
    events = _answers([(1, 0, True), (1, 0, False), (1, 0, True)])
    processor = _processor(table)
    original = [e.event for e in processor.process(events)]
    state_before = table[events[0].student_id]
    replayed = [e.event for e in processor.process(events[1:])]  # a crash replays the tail
    assert table[events[0].student_id] == state_before
    assert replayed == original[1:]
    assert processor.duplicates == 2


def test_the_state_is_written_once_per_pupil_per_batch() -> None:
    class CountingTable(dict):
        writes = 0

        def __setitem__(self, key, value):
            CountingTable.writes += 1
            super().__setitem__(key, value)

    table = CountingTable()
    _processor(table).process(_answers([(1, 0, True), (1, 1, True), (2, 0, True), (1, 2, False)]))
    assert CountingTable.writes == 2


def test_erasure_deletes_the_pupils_state() -> None:
    table: dict[str, bytes] = {}
    processor = _processor(table)
    pupil, other = factories.student(1), factories.student(2)
    processor.process(_answers([(1, 0, True), (2, 0, True)]))
    assert pupil in table
    processor.process([_erasure(pupil)])
    assert pupil not in table and other in table
    # Answers after the erasure, in the same batch, start from scratch.
    emissions = processor.process([*_answers([(1, 0, True)]), _erasure(pupil), *_answers([(1, 1, True)])])
    assert emissions[-1].event.attempts == 1
    assert set(PupilMastery.decode(table[pupil]).skills) == {SKILLS[1]}


def test_sessions_are_ignored_and_calibrated_parameters_are_used() -> None:
    book = ParameterBook()
    book.put(SKILLS[0], BktParams(0.5, 0.2, 0.1, 0.1, version=7))
    events = [factories.session_started(), *_answers([(1, 0, True)]), factories.session_ended()]
    emissions = _processor(book=book).process(events)
    assert len(emissions) == 1
    assert emissions[0].event.params_version == 7 and emissions[0].event.p_before == pytest.approx(0.5)


def test_mastered_flag_follows_the_threshold() -> None:
    events = _answers([(1, 0, True)] * 8)
    updates = [e.event for e in MasteryProcessor({}, ParameterBook(), threshold=0.9, model="bkt").process(events)]
    assert not updates[0].mastered and updates[-1].mastered
    assert all(u.mastered == (u.p_after >= 0.9) for u in updates)


def test_the_book_keeps_the_newest_version() -> None:
    book = ParameterBook()
    book.put("S", BktParams(0.5, 0.2, 0.1, 0.1, version=7))
    book.put("S", BktParams(0.4, 0.2, 0.1, 0.1, version=3))
    assert book.get("S").version == 7 and book.get("other") is DEFAULT_PARAMS


@settings(max_examples=30, deadline=None)
@given(plan=plans, model=st.sampled_from(["bkt", "learner"]))
def test_emissions_built_without_validation_are_valid_events_of_the_contract(plan, model) -> None:
    """``mastery_updated`` skips validation for speed: every emission must still pass it, field for field."""
    processor = MasteryProcessor({}, ParameterBook(), threshold=0.95, model=model)
    for emission in processor.process(_answers(plan)):
        event = emission.event
        assert MasteryUpdated.model_validate(event.model_dump()) == event
        assert MasteryUpdated.model_validate_json(event.model_dump_json()) == event
