"""The mastery processor without Kafka: batching, duplicates, erasure, emitted bytes against the contract."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import factories
from vigie.core.contract.codec import decode
from vigie.core.contract.events import ErasureRequested, MasteryUpdated
from vigie.core.contract.referential import ACADEMIES, LEVELS
from vigie.core.contract.taxonomy import skills
from vigie.core.topics import MASTERY_UPDATES
from vigie.stream.mastery.model import DEFAULT_PARAMS, BktParams
from vigie.stream.mastery.params import ParameterBook
from vigie.stream.mastery.processor import (
    MASTERY_ID_NAMESPACE,
    MasteryProcessor,
    mastery_event_id,
    mastery_event_id_str,
    mastery_updated,
    mastery_updated_json,
)
from vigie.stream.mastery.state import Outcome, PupilMastery

pytestmark = pytest.mark.unit

SKILLS = sorted(skills())[:3]


def _answers(plan: list[tuple[int, int, bool]]):
    """One answer per (pupil, skill index, correct), in order."""
    return [factories.answer(student_id=factories.student(p), skill_code=SKILLS[s], correct=c) for p, s, c in plan]


def _processor(table=None, book=None) -> MasteryProcessor:
    return MasteryProcessor({} if table is None else table, book or ParameterBook(), threshold=0.95, model="bkt")


def _updates(emissions) -> list[MasteryUpdated]:
    """The emitted bytes, read back through the contract."""
    return [decode(e.value(), MasteryUpdated) for e in emissions]


def _erasure(pupil: str) -> ErasureRequested:
    return ErasureRequested(event_id=uuid.uuid4(), occurred_at=datetime.now(UTC), academy="lyon", student_id=pupil)


plans = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2), st.booleans()), min_size=1, max_size=30)


@settings(max_examples=50, deadline=None)
@given(plan=plans, cuts=st.lists(st.integers(0, 30), max_size=6))
def test_batching_does_not_change_results(plan, cuts) -> None:
    events = _answers(plan)
    whole = _processor()
    expected = _updates(whole.process(events))
    batched = _processor()
    got = []
    bounds = sorted({0, len(events), *(c for c in cuts if c < len(events))})
    for start, end in itertools.pairwise(bounds):
        got += _updates(batched.process(events[start:end]))
    assert sorted(got, key=lambda e: str(e.event_id)) == sorted(expected, key=lambda e: str(e.event_id))
    assert batched.table == whole.table


def test_one_update_per_answer_with_deterministic_ids_keyed_by_pupil() -> None:
    events = _answers([(1, 0, True), (1, 0, True), (2, 1, False)])
    emissions = _processor().process(events)
    assert [e.topic for e in emissions] == [MASTERY_UPDATES] * 3
    assert [e.key for e in emissions] == [events[0].student_id, events[1].student_id, events[2].student_id]
    first, second, other = _updates(emissions)
    assert first.event_id == mastery_event_id(events[0].event_id) and first.answer_event_id == events[0].event_id
    assert first.p_before == pytest.approx(DEFAULT_PARAMS.p_init)
    assert second.p_before == pytest.approx(first.p_after) and second.attempts == 2
    assert other.p_after < other.p_before, "a wrong first answer lowers the estimate"
    assert first.occurred_at == events[0].occurred_at and first.params_version == 0
    assert (first.previous_p_after, first.previous_mastered) == (None, None), "the first update of a skill"
    assert (second.previous_p_after, second.previous_mastered) == (first.p_after, first.mastered)
    assert other.previous_p_after is None, "another pupil's skill"


def test_a_redelivered_answer_moves_nothing_and_emits_nothing() -> None:
    """Its update was acknowledged by the broker before the state that remembers it (Emitter.send_and_wait):
    emitting it again would only be a duplicate for the warehouse to drop."""
    table: dict[str, bytes] = {}
    events = _answers([(1, 0, True), (1, 0, False), (1, 0, True)])
    processor = _processor(table)
    assert len(processor.process(events)) == 3
    state_before = table[events[0].student_id]
    assert processor.process(events[1:]) == []  # a producer retried, or a platform replayed
    assert processor.process([events[2], events[2]]) == []
    assert table[events[0].student_id] == state_before
    assert processor.duplicates == 4
    again = _updates(processor.process(_answers([(1, 0, True)])))
    assert again[0].attempts == 4, "the estimate counted each answer once"


def test_a_crash_before_the_state_was_acknowledged_re_emits_the_same_updates() -> None:
    """The worker restarts from the older state (the changelog's last acknowledged value): the replayed
    answers are applied again and give the same bytes (same ids, same content, same previous values)."""
    events = _answers([(1, 0, True), (1, 0, False), (1, 1, True), (1, 0, True)])
    table: dict[str, bytes] = {}
    processor = _processor(table)
    processor.process(events[:2])
    acknowledged = dict(table)
    first = [e.value() for e in processor.process(events[2:])]  # emitted; its state never acknowledged
    restarted = _processor(dict(acknowledged))
    assert [e.value() for e in restarted.process(events[2:])] == first


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
    assert _updates(emissions)[-1].attempts == 1
    assert set(PupilMastery.decode(table[pupil]).skills) == {SKILLS[1]}


def test_sessions_are_ignored_and_calibrated_parameters_are_used() -> None:
    book = ParameterBook()
    book.put(SKILLS[0], BktParams(0.5, 0.2, 0.1, 0.1, version=7))
    events = [factories.session_started(), *_answers([(1, 0, True)]), factories.session_ended()]
    emissions = _updates(_processor(book=book).process(events))
    assert len(emissions) == 1
    assert emissions[0].params_version == 7 and emissions[0].p_before == pytest.approx(0.5)


def test_mastered_flag_follows_the_threshold() -> None:
    events = _answers([(1, 0, True)] * 8)
    updates = _updates(MasteryProcessor({}, ParameterBook(), threshold=0.9, model="bkt").process(events))
    assert not updates[0].mastered and updates[-1].mastered
    assert all(u.mastered == (u.p_after >= 0.9) for u in updates)


def test_the_book_keeps_the_newest_version() -> None:
    book = ParameterBook()
    book.put("S", BktParams(0.5, 0.2, 0.1, 0.1, version=7))
    book.put("S", BktParams(0.4, 0.2, 0.1, 0.1, version=3))
    assert book.get("S").version == 7 and book.get("other") is DEFAULT_PARAMS


@settings(max_examples=30, deadline=None)
@given(plan=plans, model=st.sampled_from(["bkt", "learner"]))
def test_emitted_bytes_are_valid_events_of_the_contract(plan, model) -> None:
    """The processor builds the JSON itself (no model, no validation): every emission must still pass it."""
    processor = MasteryProcessor({}, ParameterBook(), threshold=0.95, model=model)
    for emission in processor.process(_answers(plan)):
        assert isinstance(emission.event, bytes)
        update = decode(emission.event, MasteryUpdated)
        assert update.model == model and MasteryUpdated.model_validate(update.model_dump()) == update


probabilities = st.floats(0.0, 1.0, allow_nan=False)
answers_ = st.builds(
    lambda n, k, skill, level, academy, correct, at, zone: factories.answer(
        student_id=factories.student(n),
        class_id=factories.PSEUDONYMS.school_class(f"c{k}"),
        skill_code=skill,
        level=level,
        academy=academy,
        correct=correct,
        occurred_at=at.replace(tzinfo=zone),
        subject="francais" if skill.split("-")[1] == "FR" else "mathematiques",
    ),
    st.integers(0, 10**6),
    st.integers(0, 99),
    st.sampled_from(sorted(skills())),
    st.sampled_from(LEVELS),
    st.sampled_from(sorted(ACADEMIES)),
    st.booleans(),
    st.datetimes(datetime(1990, 1, 1), datetime(2026, 1, 1)),
    st.sampled_from([UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-9, minutes=-30))]),
)
outcomes = st.builds(
    lambda pb, pa, attempts, version, confidence, model: Outcome(
        "x", "s", pb, pa, pb, attempts, version, confidence, model
    ),
    probabilities,
    probabilities,
    st.integers(1, 10**9),
    st.integers(0, 10**9),
    st.none() | probabilities,
    st.sampled_from(["bkt", "learner"]),
)


@settings(max_examples=300, deadline=None)
@given(answer=answers_, outcome=outcomes, mastered=st.booleans(),
       previous=st.none() | st.tuples(probabilities, st.booleans()).map(list))  # fmt: skip
def test_the_json_built_directly_decodes_to_the_model_of_the_same_update(answer, outcome, mastered, previous) -> None:
    """The fast path (orjson of a plain dict) and the model path give the same event, field for field, and
    the same JSON document (keys in the contract's order)."""
    raw = mastery_updated_json(answer, str(answer.event_id), outcome, mastered, previous)
    model = mastery_updated(answer, str(answer.event_id), outcome, mastered, previous)
    assert decode(raw, MasteryUpdated) == model
    assert list(orjson.loads(raw).items()) == list(orjson.loads(model.model_dump_json()).items())


@settings(max_examples=300, deadline=None)
@given(answer_id=st.uuids().map(str) | st.text())
def test_the_event_id_is_uuid5_of_the_answer_id(answer_id) -> None:
    assert mastery_event_id_str(answer_id) == str(uuid.uuid5(MASTERY_ID_NAMESPACE, answer_id))


def test_the_event_id_of_an_answer_uuid() -> None:
    answer_id = uuid.uuid4()
    assert mastery_event_id(answer_id) == uuid.uuid5(MASTERY_ID_NAMESPACE, str(answer_id))


#: (pupil, skill, correct) answers; ("dup", k) redelivers the k-th answer so far; ("erase", pupil).
stream_steps = st.lists(
    st.one_of(
        st.tuples(st.just("answer"), st.integers(0, 2), st.integers(0, 2), st.booleans()),
        st.tuples(st.just("dup"), st.integers(0, 10**6)),
        st.tuples(st.just("erase"), st.integers(0, 2)),
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=80, deadline=None)
@given(steps=stream_steps, cuts=st.lists(st.integers(0, 60), max_size=8), model=st.sampled_from(["bkt", "learner"]))
def test_each_update_carries_the_previous_update_of_its_pupil_and_skill(steps, cuts, model) -> None:
    """Over a stream with redeliveries, erasures and any batching: previous_p_after / previous_mastered are
    the p_after / mastered of the preceding update of that pupil x skill (None for the first and after an
    erasure), and every answer counts once."""
    events: list = []
    answers: list = []
    for step_ in steps:
        if step_[0] == "answer":
            answers.append(_answers([step_[1:]])[0])
            events.append(answers[-1])
        elif step_[0] == "dup" and answers:
            events.append(answers[step_[1] % len(answers)])
        elif step_[0] == "erase":
            events.append(_erasure(factories.student(step_[1])))
    processor = MasteryProcessor({}, ParameterBook(), threshold=0.6, model=model)
    updates = []
    bounds = sorted({0, len(events), *(c for c in cuts if c < len(events))})
    for start, end in itertools.pairwise(bounds):
        updates += _updates(processor.process(events[start:end]))
    # Per pupil, the stream applies its events in order: what it must emit, erasures marked.
    expected: dict[str, list] = {}
    applied: dict[str, set] = {}
    for event in events:
        if isinstance(event, ErasureRequested):
            applied.pop(event.student_id, None)
            expected.setdefault(event.student_id, []).append(None)
        elif event.event_id not in applied.setdefault(event.student_id, set()):
            applied[event.student_id].add(event.event_id)
            expected.setdefault(event.student_id, []).append(event.event_id)
    by_pupil: dict[str, list[MasteryUpdated]] = {}
    for update in updates:
        by_pupil.setdefault(update.student_id, []).append(update)
    for pupil, sequence in expected.items():
        emitted = iter(by_pupil.get(pupil, []))
        last: dict[str, MasteryUpdated] = {}
        for answer_id in sequence:
            if answer_id is None:
                last.clear()
                continue
            update = next(emitted)
            assert update.answer_event_id == answer_id, "one update per new answer, in order, none for a duplicate"
            before = last.get(update.skill_code)
            assert update.previous_p_after == (before.p_after if before else None)
            assert update.previous_mastered == (before.mastered if before else None)
            last[update.skill_code] = update
        assert next(emitted, None) is None
