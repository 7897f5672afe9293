"""The dropout risk's alert policy (raise after persistence, clear with hysteresis) and the alert
threshold chosen on training histories at pupil level."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date, timedelta

import pytest

from tests.unit.test_signals import run
from tests.unit.test_signals_risk import COHORT, RawStore
from vigie.stream.signals.engine import SignalEngine
from vigie.stream.signals.risk_alerts import AlertTarget, choose_alert, pupil_flags
from vigie.stream.signals.risk_model import RiskModel, default_model
from vigie.stream.signals.risk_policy import AlertPolicy, decide, replay
from vigie.stream.signals.rules import RISK_SIGNAL

pytestmark = pytest.mark.unit

LEVELS = {"low": 0.1, "medium": 0.3, "high": 0.6}


def test_a_level_is_reached_only_after_persisting_and_kept_until_the_risk_falls_well_below() -> None:
    two = AlertPolicy(raise_days=2, hysteresis=0.8)
    assert decide(LEVELS, [0.05, 0.35], None, two) is None, "one day above is not enough"
    assert decide(LEVELS, [0.32, 0.35], None, two) == "medium"
    assert decide(LEVELS, [0.35, 0.26], "medium", two) == "medium", "kept above 0.8 x 0.3"
    assert decide(LEVELS, [0.35, 0.2], "medium", two) == "low"
    assert decide(LEVELS, [0.65, 0.7], "medium", two) == "high"
    assert decide(LEVELS, [0.2, 0.7], "medium", two) == "medium", "rising a level needs persistence too"
    assert decide(LEVELS, [0.35], None, two) != "medium", "a new pupil needs two evaluations"


def test_replay_gives_the_changes_the_worker_emits() -> None:
    risks = [0.0, 0.4, 0.0, 0.4, 0.4, 0.4, 0.26, 0.2, 0.0]
    changes = replay({"medium": 0.3}, risks, AlertPolicy(2, 0.8))
    assert changes == [(4, "medium"), (7, None)], "a one-day spike raises nothing; held at 0.26; cleared at 0.2"
    assert replay({"medium": 0.3}, risks, AlertPolicy(1, 0.8))[:2] == [(1, "medium"), (2, None)]


def _history() -> tuple[dict, dict]:
    """Twenty leavers whose risk rises in their last two weeks; forty stayers, ten with a three-day spike."""

    class Truth:
        def __init__(self, drop: date | None) -> None:
            self.disengages, self.dropout_date, self.zone = drop is not None, drop, "A"

    start = date(2025, 9, 1)
    days = [start + timedelta(days=i) for i in range(120) if (start + timedelta(days=i)).weekday() < 5]
    series, truth = {}, {}
    for n in range(60):
        leaver = n < 20
        stop = 40 + n if leaver else None
        risks = [0.02] * len(days)
        if leaver:
            assert stop is not None
            for k in range(12):
                risks[stop - k] = 0.6 - 0.03 * k
            series[f"p{n}"] = list(zip(days[: stop + 1], risks[: stop + 1], strict=True))
            truth[f"p{n}"] = Truth(days[stop])
        else:
            if n < 30:
                risks[30 + n : 33 + n] = [0.5, 0.5, 0.5] if n % 2 else [0.5, 0.02, 0.02]
            series[f"p{n}"] = list(zip(days, risks, strict=True))
            truth[f"p{n}"] = Truth(None)
    return series, truth


def test_the_alert_threshold_is_chosen_for_pupil_level_precision_recall_and_lead() -> None:
    series, truth = _history()
    choice = choose_alert(series, truth, {}, AlertTarget(precision=0.7, min_recall=0.8, min_lead=5))
    assert choice.train.precision >= 0.7 and choice.train.recall >= 0.8
    assert choice.train.lead_days_median is not None and choice.train.lead_days_median >= 5
    flags = pupil_flags(series, {"medium": choice.cut}, choice.policy)
    assert not any(flags.get(f"p{n}") for n in range(20, 30) if n % 2 == 0), "one-day spikes are never flagged"


def _persistent_engine() -> tuple[SignalEngine, RiskModel]:
    model = replace(default_model(), policy=AlertPolicy(raise_days=2, hysteresis=0.8))
    return SignalEngine(RawStore(), partitions=3, risk_model=model), model


def _risk_changes(batch: int, tick_every: int) -> tuple[list, list]:
    engine, _ = _persistent_engine()
    engine.risk_log = []
    changes = [c for c in run(engine, COHORT, batch=batch, tick_every=tick_every) if c.signal_type == RISK_SIGNAL]
    return engine.risk_log, changes


def test_the_worker_emits_what_the_policy_replay_chose_one_by_one_and_in_batches() -> None:
    risk_log, changes = _risk_changes(1, 1)
    _, model = _persistent_engine()
    series: dict[str, list] = defaultdict(list)
    for pupil, day, risk in risk_log:
        series[pupil].append((day, risk))
    replayed = pupil_flags(series, model.severities, model.policy)
    emitted: dict[str, list] = defaultdict(list)
    for c in changes:
        if c.severity in ("medium", "high"):
            emitted[c.student_id].append(c.occurred_at.date())
    assert emitted, "the cohort's leavers are flagged"
    assert dict(emitted) == dict(replayed), "the threshold chosen offline is what the worker applies"
    batched_log, batched = _risk_changes(97, 3)
    assert sorted(batched_log) == sorted(risk_log)
    assert sorted(c.event_id for c in batched) == sorted(c.event_id for c in changes)
