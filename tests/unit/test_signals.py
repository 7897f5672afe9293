"""The dropout signals' logic, on small hand-made event sequences (no Kafka: the engine the worker runs)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import factories
from vigie.core.contract.calendar import is_school_day
from vigie.core.contract.events import ErasureRequested, SignalChanged
from vigie.stream.signals.engine import SignalEngine, at_risk
from vigie.stream.signals.rules import RANK, SignalRules
from vigie.stream.signals.state import PupilSignals

pytestmark = pytest.mark.unit

PUPIL = factories.student(1)
OTHER = factories.student(2)


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def school_days(start: date, end: date, zone: str = "A") -> list[date]:
    days, day = [], start
    while day <= end:
        if is_school_day(day, zone):  # type: ignore[arg-type]
            days.append(day)
        day += timedelta(days=1)
    return days


def a_day_of_work(pupil: str, day: date, *, answers: int = 2, correct: bool = True, **overrides):
    session = f"s-{pupil[:6]}-{day.isoformat()}"
    events = [factories.session_started(student_id=pupil, session_id=session, occurred_at=at(day))]
    for i in range(answers):
        events.append(
            factories.answer(
                student_id=pupil,
                session_id=session,
                correct=correct,
                score=float(correct),
                occurred_at=at(day, 9, i + 1),
                **overrides,
            )
        )
    events.append(
        factories.session_ended(
            student_id=pupil, session_id=session, answers_count=answers, occurred_at=at(day, 9, answers + 2)
        )
    )
    return events


def run(engine: SignalEngine, events, *, batch: int = 1, tick_every: int = 1) -> list[SignalChanged]:
    """Feed events in batches, ticking the timer every ``tick_every`` batches (and at the end)."""
    out: list[SignalChanged] = []
    for n, start in enumerate(range(0, len(events), batch), start=1):
        out += engine.process(events[start : start + batch])
        if n % tick_every == 0:
            out += engine.tick()
    return out + engine.tick()


def of(changes: list[SignalChanged], signal_type: str, pupil: str = PUPIL) -> list[SignalChanged]:
    return [c for c in changes if c.signal_type == signal_type and c.student_id == pupil]


def engine() -> SignalEngine:
    return SignalEngine({}, partitions=1)


def test_inactivity_is_measured_in_school_days_against_the_pupils_rhythm_then_clears() -> None:
    worked = school_days(date(2025, 11, 3), date(2025, 11, 21))  # three weeks, every school day
    silent = school_days(date(2025, 11, 24), date(2025, 12, 5))  # the pupil stops; a classmate carries on
    events = [e for d in worked for e in a_day_of_work(PUPIL, d)]
    events += [e for d in worked + silent for e in a_day_of_work(OTHER, d)]
    events.sort(key=lambda e: e.occurred_at)
    back = a_day_of_work(PUPIL, date(2025, 12, 8))
    changes = of(run(engine(), [*events, *a_day_of_work(OTHER, date(2025, 12, 8)), *back]), "inactivity")

    assert [(c.status, c.severity) for c in changes] == [
        ("raised", "low"),
        ("changed", "medium"),
        ("changed", "high"),
        ("cleared", None),
    ]
    raised, medium, high, cleared = changes
    # Last active Friday 21 Nov; Mon 24 and Tue 25 missed -> low detected at 00:00 on Wed 26.
    assert raised.occurred_at == at(date(2025, 11, 26), 0)
    assert medium.occurred_at == at(date(2025, 11, 27), 0)
    assert high.occurred_at == at(date(2025, 11, 29), 0), "5 missed school days once Friday 28 is over"
    assert {r.code: (r.value, r.threshold) for r in medium.reasons}["school_days_inactive"] == (3, 3)
    assert "3 jours d'école" in medium.reasons[0].text
    assert len({c.signal_id for c in changes}) == 1 and raised.first_seen_at == raised.occurred_at
    assert cleared.cleared_at == back[0].occurred_at and cleared.reasons[0].code == "activity_resumed"


def test_a_pupil_silent_over_the_holidays_is_not_inactive() -> None:
    before = school_days(date(2025, 10, 6), date(2025, 10, 17))  # up to the Friday before Toussaint
    after = school_days(date(2025, 11, 3), date(2025, 11, 4))
    events = [e for d in before + after for e in a_day_of_work(PUPIL, d)]
    # A pupil of another platform works through the holidays: the watermark crosses every day.
    every_day = [date(2025, 10, 18) + timedelta(days=i) for i in range(16)]
    events += [e for d in every_day for e in a_day_of_work(OTHER, d)]
    events.sort(key=lambda e: e.occurred_at)
    assert of(run(engine(), events), "inactivity") == []


def test_inactivity_follows_the_pupils_own_rhythm() -> None:
    every_third = school_days(date(2025, 11, 3), date(2025, 11, 28))[::3]
    watermark = school_days(date(2025, 11, 3), date(2025, 12, 12))
    events = [e for d in every_third for e in a_day_of_work(PUPIL, d)]
    events += [e for d in watermark for e in a_day_of_work(OTHER, d)]
    events.sort(key=lambda e: e.occurred_at)
    changes = of(run(engine(), events, batch=7, tick_every=3), "inactivity")
    # Usual gap 3 school days: low at 6 missed, medium at 9 (a daily pupil would be "high" long before).
    first_medium = next(c for c in changes if c.severity == "medium")
    gap = next(r for r in first_medium.reasons if r.code == "usual_gap_school_days")
    assert gap.value == 3
    assert next(r for r in first_medium.reasons if r.code == "school_days_inactive").value == 9


def test_falling_success_compares_recent_answers_with_the_pupils_earlier_level() -> None:
    start = at(date(2025, 11, 17))
    good = [
        factories.answer(student_id=PUPIL, correct=i % 10 != 0, occurred_at=start + timedelta(minutes=i))
        for i in range(60)
    ]
    bad = [
        factories.answer(student_id=PUPIL, correct=i % 4 == 0, occurred_at=start + timedelta(minutes=60 + i))
        for i in range(20)
    ]
    recovered = [
        factories.answer(student_id=PUPIL, correct=True, occurred_at=start + timedelta(minutes=80 + i))
        for i in range(20)
    ]
    uncapped = SignalEngine({}, partitions=1, rules=SignalRules(capped_alone=()))
    changes = of(run(uncapped, good + bad + recovered, batch=10), "falling_success")
    severities = [c.severity for c in changes]
    assert severities[0] == "low" and "high" in severities and severities[-1] is None
    worst = next(c for c in changes if c.severity == "high")
    drop = next(r for r in worst.reasons if r.code == "success_drop")
    assert drop.value >= 0.55 and drop.threshold == 0.55
    assert changes[-1].status == "cleared"
    # By default a falling success alone (no inactivity) stays "low", and says it is an isolated sign.
    capped = of(run(engine(), good + bad + recovered, batch=10), "falling_success")
    assert {c.severity for c in capped} == {"low", None}
    assert next(r for r in capped[0].reasons if r.code == "other_signals").value == 0


def test_a_precursor_corroborated_by_inactivity_rises_a_level() -> None:
    worked = school_days(date(2025, 11, 3), date(2025, 11, 14))
    events = [e for d in worked for e in a_day_of_work(PUPIL, d, answers=8)]
    last = worked[-1]
    events += [factories.answer(student_id=PUPIL, correct=False, occurred_at=at(last, 15, i)) for i in range(14)]
    events += [e for d in school_days(date(2025, 11, 3), date(2025, 11, 21)) for e in a_day_of_work(OTHER, d)]
    events.sort(key=lambda e: e.occurred_at)
    changes = run(engine(), events, batch=25)
    falling = of(changes, "falling_success")
    assert falling[0].severity == "low"
    inactivity = next(c for c in of(changes, "inactivity") if c.status == "raised")
    bumped = next(c for c in falling if c.status == "changed")
    assert RANK[bumped.severity] > RANK["low"] and bumped.occurred_at == inactivity.occurred_at
    other = next(r for r in bumped.reasons if r.code == "other_signals")
    assert other.value == 1 and "inactivité" in other.text


def test_wheel_spinning_is_many_attempts_on_a_skill_without_a_success_streak() -> None:
    start = at(date(2025, 11, 17))
    tries = [
        factories.answer(
            student_id=PUPIL, skill_code="C3-MA-NOM-01", correct=i % 2 == 0, occurred_at=start + timedelta(minutes=i)
        )
        for i in range(15)
    ]
    streak = [
        factories.answer(
            student_id=PUPIL, skill_code="C3-MA-NOM-01", correct=True, occurred_at=start + timedelta(minutes=20 + i)
        )
        for i in range(3)
    ]
    changes = of(run(engine(), tries + streak), "wheel_spinning")
    assert [(c.status, c.severity) for c in changes] == [("raised", "low"), ("changed", "medium"), ("cleared", None)]
    assert changes[0].skill_code == "C3-MA-NOM-01"
    assert changes[0].occurred_at == tries[9].occurred_at, "raised at the 10th attempt"
    assert {r.code: r.value for r in changes[0].reasons} == {"attempts_without_mastery": 10, "best_success_streak": 1}


def test_rapid_guessing_is_answering_much_faster_than_the_items_usual_time_and_failing() -> None:
    start = at(date(2025, 11, 17))
    classmates = [
        factories.answer(
            student_id=factories.student(10 + i),
            item_id=f"item-{i % 4}",
            response_time_ms=12_000,
            occurred_at=start + timedelta(seconds=i),
        )
        for i in range(40)
    ]
    guesses = [
        factories.answer(
            student_id=PUPIL,
            item_id=f"item-{i % 4}",
            correct=i % 4 == 0,
            response_time_ms=1_500 if i % 2 else 11_000,
            occurred_at=start + timedelta(minutes=5, seconds=i),
        )
        for i in range(20)
    ]
    uncapped = SignalEngine({}, partitions=1, rules=SignalRules(capped_alone=()))
    changes = of(run(uncapped, classmates + guesses, batch=8), "rapid_guessing")
    assert changes and changes[0].status == "raised"
    assert changes[-1].severity == "high"
    share = next(r for r in changes[-1].reasons if r.code == "rapid_answer_share")
    assert share.value == 0.5  # 10 rapid answers out of the last 20


def test_sessions_left_without_an_answer_are_counted_both_ways() -> None:
    day = date(2025, 11, 17)
    events = []
    for i in range(3):  # opened, then closed as abandoned with no answer
        events.append(factories.session_started(student_id=PUPIL, session_id=f"a{i}", occurred_at=at(day, 9 + i)))
        events.append(
            factories.session_ended(
                student_id=PUPIL,
                session_id=f"a{i}",
                outcome="abandoned",
                answers_count=0,
                occurred_at=at(day, 9 + i, 5),
            )
        )
    # Opened, and the next session started without a single answer in between.
    events.append(factories.session_started(student_id=PUPIL, session_id="b0", occurred_at=at(day, 13)))
    events.append(factories.session_started(student_id=PUPIL, session_id="b1", occurred_at=at(day, 14)))
    changes = of(run(engine(), events), "abandoned_sessions")
    assert [(c.status, c.severity) for c in changes] == [("raised", "low"), ("changed", "medium"), ("changed", "high")]
    assert changes[-1].reasons[0].value == 4


def test_a_redelivered_batch_raises_nothing_again_and_batching_does_not_change_the_signals() -> None:
    worked = school_days(date(2025, 11, 3), date(2025, 11, 14))
    watermark = school_days(date(2025, 11, 3), date(2025, 11, 28))
    events = [e for d in worked for e in a_day_of_work(PUPIL, d, correct=d.day % 2 == 0)]
    events += [e for d in watermark for e in a_day_of_work(OTHER, d)]
    events += [
        factories.answer(
            student_id=PUPIL, skill_code="C3-MA-NOM-02", correct=False, occurred_at=at(date(2025, 11, 14), 10, i)
        )
        for i in range(12)
    ]
    events.sort(key=lambda e: e.occurred_at)

    one_by_one = run(engine(), events, batch=1, tick_every=1)
    assert {c.signal_type for c in one_by_one} >= {"inactivity", "wheel_spinning"}
    big_batches = run(engine(), events, batch=50, tick_every=4)
    assert per_pupil(big_batches) == per_pupil(one_by_one)

    replayed = engine()
    first = run(replayed, events, batch=20)
    again = run(replayed, events[len(events) // 2 :], batch=20)  # at-least-once: a suffix comes back
    assert per_pupil(first) == per_pupil(one_by_one)
    assert again == []
    assert replayed.duplicates == len(events) - len(events) // 2


def test_erasure_forgets_the_pupil() -> None:
    signals = engine()
    run(signals, [factories.answer(student_id=PUPIL, correct=False) for _ in range(12)])
    assert PUPIL in signals.store and PupilSignals.decode(signals.store[PUPIL]).signals
    assert not at_risk(signals.store[PUPIL], min_rank=1), "wheel-spinning is a difficulty, not a dropout risk"
    erasure = ErasureRequested(
        event_id=uuid.uuid4(), occurred_at=at(date(2025, 11, 18)), academy="lyon", student_id=PUPIL
    )
    assert signals.process([erasure]) == []
    assert PUPIL not in signals.store


def test_thresholds_are_settings_of_the_rules() -> None:
    strict = SignalEngine({}, partitions=1, rules=SignalRules(spinning_attempts=(4, 6, 8)))
    events = [factories.answer(student_id=PUPIL, correct=False) for _ in range(4)]
    assert [c.severity for c in of(run(strict, events), "wheel_spinning")] == ["low"]


def test_inactivity_after_ordinary_sessions_can_be_lowered_a_level() -> None:
    worked = school_days(date(2025, 11, 3), date(2025, 11, 21))
    events = [e for d in worked for e in a_day_of_work(PUPIL, d)]
    events += [e for d in school_days(date(2025, 11, 3), date(2025, 12, 5)) for e in a_day_of_work(OTHER, d)]
    events.sort(key=lambda e: e.occurred_at)
    default = [c.severity for c in of(run(engine(), events, batch=30), "inactivity")]
    lenient = SignalEngine({}, partitions=1, rules=SignalRules(inactivity_alone_drop=1))
    lowered = of(run(lenient, events, batch=30), "inactivity")
    assert default == ["low", "medium", "high"]
    assert [c.severity for c in lowered] == ["low", "medium"], "medium only once the raw rule says high"
    assert lowered[-1].occurred_at == at(date(2025, 11, 29), 0)
    assert next(r for r in lowered[-1].reasons if r.code == "precursors").value == 0


def _mixed_sequence() -> list:
    worked = school_days(date(2025, 11, 3), date(2025, 11, 14))
    events = [e for d in worked for e in a_day_of_work(PUPIL, d, answers=4, correct=d.day % 3 != 0)]
    events += [e for d in school_days(date(2025, 11, 3), date(2025, 11, 28)) for e in a_day_of_work(OTHER, d)]
    third = factories.student(3)
    events += [e for d in worked[::2] for e in a_day_of_work(third, d, answers=3, correct=False)]
    return sorted(events, key=lambda e: e.occurred_at)


def per_pupil(changes: list[SignalChanged]) -> dict[str, list[uuid.UUID]]:
    """What each pupil's partition of the signals topic receives, in order (pupils interleave freely)."""
    seen: dict[str, list[uuid.UUID]] = {}
    for change in changes:
        seen.setdefault(change.student_id, []).append(change.event_id)
    return seen


MIXED = _mixed_sequence()
REFERENCE = per_pupil(run(engine(), MIXED, batch=1, tick_every=1))


@settings(max_examples=12, deadline=None)
@given(batch=st.integers(1, 80), tick_every=st.integers(1, 6))
def test_signals_do_not_depend_on_batching_or_timer_pace(batch: int, tick_every: int) -> None:
    assert sum(map(len, REFERENCE.values())) > 3
    assert per_pupil(run(engine(), MIXED, batch=batch, tick_every=tick_every)) == REFERENCE
