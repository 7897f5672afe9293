"""The evaluation's definitions: true positives, the 7-day baseline, lead time, class share at risk."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from tests import factories
from tests.unit.test_signals import a_day_of_work, school_days
from vigie.stream.signals.evaluation import baseline_flags, evaluate, score

pytestmark = pytest.mark.unit


@dataclass(frozen=True)
class Truth:
    disengages: bool
    dropout_date: date | None
    zone: str = "A"


def test_baseline_flags_after_seven_calendar_days_without_activity_holidays_included() -> None:
    days = {"p": {date(2025, 10, 17), date(2025, 11, 3)}}  # Friday before Toussaint, Monday after
    assert baseline_flags(days, end=date(2025, 11, 30)) == {"p": [date(2025, 10, 25), date(2025, 11, 11)]}


def test_true_positive_lead_time_and_flags_too_early_to_count() -> None:
    truth = {
        "drop": Truth(True, date(2025, 11, 21)),
        "stay": Truth(False, None),
        "missed": Truth(True, date(2025, 11, 21)),
    }
    flags = {"drop": [date(2025, 11, 19)], "stay": [date(2025, 11, 5)], "missed": [date(2025, 9, 15)]}
    scores = score(flags, truth, window=10)
    assert (scores.true_positives, scores.false_positives, scores.false_negatives) == (1, 1, 1)
    assert scores.precision == 0.5 and scores.recall == 0.5
    assert scores.lead_days_median == 2, "Wed 19 -> Fri 21: two school days ahead"


def test_vigie_warns_a_dropout_earlier_than_the_baseline_and_reports_the_class_share() -> None:
    worked = school_days(date(2025, 11, 3), date(2025, 11, 21))
    stay, drop = factories.student(1), factories.student(2)
    events = [e for d in worked for e in a_day_of_work(stay, d)]
    events += [e for d in worked[:12] for e in a_day_of_work(drop, d)]
    events += [e for d in school_days(date(2025, 11, 24), date(2025, 12, 5)) for e in a_day_of_work(stay, d)]
    events.sort(key=lambda e: e.occurred_at)
    truth = {stay: Truth(False, None), drop: Truth(True, worked[11])}
    result = evaluate(events, truth, partitions=2, batch_size=20)
    assert result.vigie.true_positives == 1 and result.vigie.false_positives == 0, "the calibrated risk"
    assert result.baseline.true_positives == 1
    rules = result.rules
    assert rules is not None and rules.true_positives == 1 and rules.false_positives == 0
    # The former rules, still emitted as indicators: last active Wed 19 Nov (11 school days of history: the
    # daily rhythm is trusted); 3 school days missed (20, 21, 24) -> medium at 00:00 on Tue 25, counted as 4
    # school days late; the baseline waits for Thu 27. The risk, fitted on classes of 20 with two weeks of
    # history at least, is slower on this two-pupil class of three weeks: it is judged on the simulator.
    assert rules.lead_days_median == -4
    assert result.baseline.lead_days_median == -6, "7 calendar days: flagged on the 8th day"
    assert result.vigie.lead_days_median is not None and result.vigie.lead_days_median <= 0
    assert result.daily is not None and result.daily.school_days > 10
    [klass] = result.classes
    assert (klass.pupils, klass.at_risk, klass.share) == (2, 1, 0.5)
    assert result.as_json()["vigie"]["precision"] == 1.0
    assert worked[11] + timedelta(days=8) <= date(2025, 12, 5)


def test_class_share_from_the_emitted_changes_matches_the_processors_state() -> None:
    from vigie.stream.signals.engine import SignalEngine, at_risk
    from vigie.stream.signals.evaluation import batches, class_risk

    pupils = [factories.student(n) for n in range(1, 5)]
    worked = school_days(date(2025, 11, 3), date(2025, 11, 21))
    events = [e for i, p in enumerate(pupils) for d in worked[: 8 + 3 * i] for e in a_day_of_work(p, d)]
    events += [e for d in school_days(date(2025, 11, 24), date(2025, 11, 28)) for e in a_day_of_work(pupils[-1], d)]
    events.sort(key=lambda e: e.occurred_at)
    engine = SignalEngine({}, partitions=3)
    changes = []
    for batch in batches(events, 17):
        changes += engine.process(batch) + engine.tick()
    members = {p: ("lyon", "0691234A", "c") for p in pupils}
    [klass] = class_risk(changes, members)
    assert klass.at_risk == sum(at_risk(engine.store[p]) for p in pupils)
    assert 0 < klass.at_risk < len(pupils)
