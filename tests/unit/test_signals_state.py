"""The signals state's stored form: format 2 (bytes) round-trips, and format 1 (the former JSON object) still
reads, so that a worker upgraded in place recovers its changelog and goes on with the same signals.

``tests/data/signals_state_v1.json`` holds the table of format 1 that the engine of main 41fb1d7 (the last
one writing format 1) left after the first half of ``upgrade_events()``; regenerate it, with that engine,
by ``python -m tests.unit.test_signals_state <folder holding main's vigie.stream.signals as vigie_ref_signals>``
only if the events below change.
"""

from __future__ import annotations

import json
import random
import sys
import uuid
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from vigie.core.contract.calendar import is_school_day
from vigie.core.contract.events import (
    AnswerSubmitted,
    LearningEvent,
    SessionEnded,
    SessionStarted,
    SignalChanged,
    make_event_id,
)
from vigie.core.contract.taxonomy import skills_for
from vigie.producers.pseudonym import Pseudonymizer
from vigie.stream.signals.engine import SignalEngine
from vigie.stream.signals.rules import SignalRules
from vigie.stream.signals.state import ID_BYTES, RECENT_IDS, PupilSignals, SkillCounts, StateFormatError

pytestmark = pytest.mark.unit

FORMAT_1 = Path(__file__).parents[1] / "data" / "signals_state_v1.json"
PARTITIONS, BATCH = 2, 40


def upgrade_events() -> list[LearningEvent]:
    """Six pupils of two classes over three weeks: steady ones, a fast one, one who spins on a skill, one who
    stops; deterministic ids and times (the format 1 file was written from them)."""
    rng = random.Random(11)
    names = Pseudonymizer(b"state-format-key-0123456789")
    skills = [s.code for s in skills_for("CM1", "mathematiques")][:6]
    events: list[LearningEvent] = []
    n = 0
    day = date(2025, 11, 3)
    days = []
    while len(days) < 15:
        if is_school_day(day, "A"):
            days.append(day)
        day += timedelta(days=1)
    for p in range(6):
        student, klass = names.student(f"eleve-{p}"), names.school_class(f"classe-{p // 3}")
        common = {"platform": "fondamentaux", "academy": "lyon", "school_uai": "0691234A", "class_id": klass}
        common |= {"student_id": student, "level": "CM1"}
        for d, day in enumerate(days[: 9 if p == 5 else 15]):
            if rng.random() < 0.2:
                continue
            moment = datetime.combine(day, time(9 + p), tzinfo=UTC)
            session = f"s{p}-{d}"
            n += 1
            events.append(
                SessionStarted(
                    event_id=make_event_id("fondamentaux", f"e{n}"),
                    source_event_id=f"e{n}",
                    occurred_at=moment,
                    session_id=session,
                    **common,
                )
            )
            answers = 0 if rng.random() < 0.1 else 6
            for _ in range(answers):
                n += 1
                moment += timedelta(seconds=rng.randrange(20, 90))
                correct = p != 4 and rng.random() < 0.7
                events.append(
                    AnswerSubmitted(
                        event_id=make_event_id("fondamentaux", f"e{n}"),
                        source_event_id=f"e{n}",
                        occurred_at=moment,
                        session_id=session,
                        subject="mathematiques",
                        skill_code=skills[0] if p == 4 else rng.choice(skills),
                        item_id=f"i{rng.randrange(12)}",
                        correct=correct,
                        score=float(correct),
                        response_time_ms=rng.randrange(800, 2_000) if p == 3 else rng.randrange(8_000, 40_000),
                        **common,
                    )
                )
            n += 1
            events.append(
                SessionEnded(
                    event_id=make_event_id("fondamentaux", f"e{n}"),
                    source_event_id=f"e{n}",
                    occurred_at=moment + timedelta(seconds=30),
                    session_id=session,
                    outcome="completed" if answers else "abandoned",
                    answers_count=answers,
                    **common,
                )
            )
    events.sort(key=lambda e: e.occurred_at)
    return events


EVENTS = upgrade_events()
HALF = len(EVENTS) // 2 // BATCH * BATCH


def run(engine: SignalEngine, events: list[LearningEvent]) -> list[SignalChanged]:
    out: list[SignalChanged] = []
    for start in range(0, len(events), BATCH):
        out += engine.process(events[start : start + BATCH])
        out += engine.tick()
    return out


def format_1_table() -> dict[str, dict]:
    return json.loads(FORMAT_1.read_text(encoding="utf-8"))


def test_the_engine_writes_what_the_former_engine_wrote_and_reads_it_back() -> None:
    engine = SignalEngine({}, partitions=PARTITIONS)
    run(engine, EVENTS[:HALF])
    former = format_1_table()
    assert any(v["signals"] for v in former.values()), "the states hold open signals"
    assert {p: PupilSignals.decode(v).to_legacy() for p, v in engine.store.items()} == former
    for value in former.values():
        state = PupilSignals.decode(orjson.dumps(value))  # the raw record of the JSON changelog
        assert state.to_legacy() == value
        assert PupilSignals.decode(state.encode()).to_legacy() == value


def test_a_worker_upgraded_in_place_goes_on_from_its_format_1_changelog() -> None:
    """A restarted worker (empty memory) recovering format 1 records emits what one recovering format 2 does."""
    written = SignalEngine({}, partitions=PARTITIONS)
    run(written, EVENTS[:HALF])
    upgraded = SignalEngine({p: orjson.dumps(v) for p, v in format_1_table().items()}, partitions=PARTITIONS)
    restarted = SignalEngine(dict(written.store), partitions=PARTITIONS)
    after_upgrade, after_restart = run(upgraded, EVENTS[HALF:]), run(restarted, EVENTS[HALF:])
    assert after_upgrade and after_upgrade == after_restart
    assert upgraded.store == restarted.store, "the same bytes, once every pupil is written again"


def test_an_unknown_format_is_refused_by_name() -> None:
    with pytest.raises(StateFormatError, match="format"):
        PupilSignals.decode(b"\x07whatever")


def test_a_failed_batch_leaves_the_stored_states_as_they_were() -> None:
    """The pipeline rolls a failed batch back and replays it event by event: its events must not be taken
    for redeliveries then (the stored values are bytes, never aliased by the engine's states)."""
    engine = SignalEngine({}, partitions=PARTITIONS)
    run(engine, EVENTS[:HALF])
    before = dict(engine.store)
    broken = EVENTS[HALF].model_copy(update={"academy": "atlantide", "event_id": uuid.uuid4()})  # no such academy
    with pytest.raises(KeyError):
        engine.process([*EVENTS[HALF : HALF + BATCH], broken])
    assert engine.store == before
    engine.process(EVENTS[HALF : HALF + BATCH])
    assert engine.duplicates == 0, "the replayed events are new to the states"
    assert any(engine.store[p] != before.get(p) for p in engine.store)


def test_recent_ids_are_whole_ids_in_a_bounded_window() -> None:
    state = PupilSignals()
    ids = [uuid.uuid5(uuid.NAMESPACE_DNS, str(i)).bytes[:ID_BYTES] for i in range(RECENT_IDS + 10)]
    for event_id in ids:
        assert not state.seen(event_id)
        state.remember(event_id)
    assert len(state.ids) == RECENT_IDS * ID_BYTES
    assert all(state.seen(i) for i in ids[10:]) and not any(state.seen(i) for i in ids[:10])
    straddling = ids[-2][4:] + ids[-1][:4]  # the bytes across two ids are not an id
    assert not state.seen(straddling)


def test_skill_counts_keep_their_order_and_read_one_skill_at_a_time() -> None:
    counts = SkillCounts.from_dict({"C3-MA-NOM-01": [3, 1, 2, 0], "C3-MA-NOM-02": [1, 0, 0, 0]})
    assert counts.get("C3-MA-NOM-02") == [1, 0, 0, 0] and counts.get("C3-MA-NOM-0") is None
    counts.set("C3-MA-NOM-03", [1, 1, 1, 0])
    counts.set("C3-MA-NOM-01", [4, 2, 2, 0])
    again = SkillCounts(counts.encode())
    assert list(again.as_dict().items()) == [
        ("C3-MA-NOM-01", [4, 2, 2, 0]),
        ("C3-MA-NOM-02", [1, 0, 0, 0]),
        ("C3-MA-NOM-03", [1, 1, 1, 0]),
    ]


@given(st.lists(st.dates(date(2025, 9, 1), date(2026, 6, 30)), max_size=40), st.integers(1, 15))
def test_active_days_follow_the_former_list_exactly(days: list[date], keep: int) -> None:
    rules, state, former = SignalRules(rhythm_max_days=keep), PupilSignals(), []
    for day in days:
        state.mark_active(day.isoformat(), rules)
        if day.isoformat() not in former:  # the former algorithm, on a list
            former = sorted([*former, day.isoformat()])[-keep:]
        assert state.active_days.split() == former
        assert state.last_active == date.fromisoformat(former[-1])


if __name__ == "__main__":  # write the format 1 file with the former engine (see the module's docstring)
    sys.path.insert(0, sys.argv[1])
    from vigie_ref_signals.engine import SignalEngine as FormerEngine  # type: ignore[import-not-found]

    former_engine = FormerEngine({}, partitions=PARTITIONS)
    run(former_engine, EVENTS[:HALF])
    FORMAT_1.write_text(json.dumps(former_engine.store, indent=1) + "\n", encoding="utf-8")
    print(f"{FORMAT_1}: {len(former_engine.store)} pupils after {HALF} events")
