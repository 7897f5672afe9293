"""The dropout risk: O(1) features, the pure-Python model, fitting and calibration, and the engine's signal."""

from __future__ import annotations

import copy
import math
import random
from datetime import date

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests import factories
from tests.unit.test_signals import a_day_of_work, run, school_days
from vigie.core.errors import ConfigurationError
from vigie.stream.signals.engine import ItemTimes, SignalEngine
from vigie.stream.signals.risk_features import FEATURES, ClassActivity, RiskState, school_days_left, school_time
from vigie.stream.signals.risk_fit import FitOptions, fit, severity_thresholds
from vigie.stream.signals.risk_model import RiskModel, default_model
from vigie.stream.signals.rules import RISK_SIGNAL
from vigie.stream.undo import Journal, undo

pytestmark = pytest.mark.unit


def test_features_grow_with_silence_and_decay_without_replaying_history() -> None:
    state = RiskState()
    for t in range(10):
        state.activity(t, 5, 4, 80.0, class_cum=float(t))
    active = state.features(9, 10.0, 100, 1.0)
    silent = RiskState.from_list(state.to_list()).features(19, 20.0, 90, 1.0)
    index = {name: i for i, name in enumerate(FEATURES)}
    assert active[index["log_since"]] == 0.0
    assert silent[index["log_since"]] == pytest.approx(math.log1p(10))
    assert silent[index["activity_fast"]] < active[index["activity_fast"]] / 2, "half-life 7 units"
    assert silent[index["log_class_missed"]] > active[index["log_class_missed"]]
    assert len(state.to_list()) == len(RiskState().to_list()), "fixed size whatever the history"


def test_class_activity_answers_for_a_past_time_whatever_comes_after() -> None:
    classes = ClassActivity()
    for t, pupils in ((1, "ab"), (2, "a"), (3, "abc")):
        for p in pupils:
            classes.observe("c", p, t)
    # day 1: 2 of 2 active, day 2: 1 of 2 (c joins on day 3, after day 2 is closed)
    assert classes.cumulated_before("c", 3) == pytest.approx(1.5)
    before = classes.cumulated_before("c", 2)
    classes.observe("c", "a", 4)
    assert classes.cumulated_before("c", 2) == before == pytest.approx(1.0)
    assert classes.recent_through("c", 2) == pytest.approx(0.5 ** (1 / 7) + 0.5)


_OBSERVATIONS = st.lists(st.tuples(st.sampled_from("cdef"), st.sampled_from("abc"), st.integers(60, 90)), max_size=60)


@given(_OBSERVATIONS, _OBSERVATIONS)
def test_the_per_worker_memory_undoes_every_change_it_journals(before: list, undone: list) -> None:
    """What a failed batch's rollback relies on (``vigie.stream.undo``): class activity and item times come back
    to what they held, whatever the changes: new classes and items, days started (class ``c``'s history full),
    late events, pupils joining, the bounds pushing the least recently used out."""
    journal: Journal = []
    classes, items = ClassActivity(max_classes=3, journal=journal), ItemTimes(max_items=3, journal=journal)

    def observe(class_id: str, pupil: str, t: int) -> None:
        classes.observe(class_id, pupil, t)
        items.observe(f"{class_id}{pupil}", 100 * t)

    for t in range(70):
        observe("c", "a", t)
    for observation in before:
        observe(*observation)
    journal.clear()
    kept = copy.deepcopy((classes._classes, items._stats))
    for observation in undone:
        observe(*observation)
    undo(journal)
    assert (classes._classes, items._stats) == kept and journal == []


def test_school_time_counts_school_days_only() -> None:
    friday, monday = date(2025, 11, 14), date(2025, 11, 17)
    assert school_time(monday, "A") - school_time(friday, "A") == 1
    assert school_time(date(2025, 11, 2), "A") == school_time(date(2025, 10, 17), "A"), "Toussaint"
    assert school_days_left(date(2026, 7, 10), "A") == 0


def _synthetic(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, len(FEATURES)))
    z = -3 + 1.5 * x[:, 0] + 0.8 * np.maximum(x[:, 1], 0)
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    return x, y, np.array([f"g{i % 40}" for i in range(n)])


def test_fitted_model_is_calibrated_on_new_rows_and_scores_in_pure_python() -> None:
    x, y, groups = _synthetic(20_000, 1)
    model = fit(x, y, groups, horizon=20, fitted_on="synthetic", options=FitOptions(targets=(0.2, 0.4, 0.6)))
    xt, yt, _ = _synthetic(20_000, 2)
    risk = np.array([model.score(list(row)).risk for row in xt])
    for lo, hi in ((0.0, 0.05), (0.05, 0.2), (0.2, 1.0)):
        inside = (risk >= lo) & (risk < hi)
        assert abs(risk[inside].mean() - yt[inside].mean()) < 0.03, (lo, hi)
    cut = model.severities["medium"]
    assert yt[risk >= cut].mean() >= 0.4 - 0.05, "the medium threshold keeps its target precision on new rows"
    top = model.score(list(xt[int(np.argmax(risk))]))
    assert max(range(len(FEATURES)), key=lambda j: top.contributions[j]) == 0, "the driving feature comes first"
    again = RiskModel.from_json(model.to_json())
    assert again.score(list(xt[0])) == model.score(list(xt[0]))


def test_severity_thresholds_reach_their_target_precision() -> None:
    risk = np.linspace(0, 1, 1000)
    y = (np.random.default_rng(3).random(1000) < risk).astype(int)
    cuts = severity_thresholds(risk, y, (0.5, 0.8, 2.0))
    assert set(cuts) == {"low", "medium"}, "an unreachable target makes no severity"
    for name, target in (("low", 0.5), ("medium", 0.8)):
        assert y[risk >= cuts[name]].mean() >= target


def test_severity_has_hysteresis_and_a_model_of_other_features_is_refused() -> None:
    model = default_model()
    cut = model.severities["medium"]
    assert model.severity(cut) == "medium"
    assert model.severity(0.9 * cut, "medium") == "medium", "an open signal holds until 0.8 x its threshold"
    assert model.severity(0.9 * cut, None) != "medium"
    data = model.to_json()
    data["features"] = data["features"][:-1]
    with pytest.raises(ConfigurationError, match="refit"):
        RiskModel.from_json(data)


def _cohort() -> list:
    rng = random.Random(5)
    days = school_days(date(2025, 9, 8), date(2025, 12, 12))
    events = []
    for n in range(1, 9):
        pupil, stop = factories.student(n), (len(days) if n > 2 else 30 + 5 * n)
        for day in days[:stop]:
            if rng.random() < 0.8:
                events += a_day_of_work(pupil, day, answers=3, correct=rng.random() < 0.7)
    return sorted(events, key=lambda e: e.occurred_at)


COHORT = _cohort()


class RawStore(dict):
    """A state store that keeps what the faust table keeps (its raw value codec): bytes, decoded on read."""

    def __setitem__(self, key: str, value: object) -> None:
        assert isinstance(value, bytes), "the signals-state table's values are bytes"
        super().__setitem__(key, bytes(bytearray(value)))  # a copy: nothing of the engine's state is kept


def _risks(batch: int, tick_every: int) -> tuple[list, list]:
    engine = SignalEngine(RawStore(), partitions=3)
    engine.risk_log = []
    changes = [c for c in run(engine, COHORT, batch=batch, tick_every=tick_every) if c.signal_type == RISK_SIGNAL]
    return sorted(engine.risk_log), sorted(c.event_id for c in changes)


def test_the_same_risks_one_by_one_and_in_batches() -> None:
    one_by_one = _risks(1, 1)
    assert len(one_by_one[0]) > 400 and one_by_one[1], "risks were evaluated and signals emitted"
    assert _risks(97, 3) == one_by_one
    assert _risks(400, 7) == one_by_one


def test_a_pupil_who_stops_gets_a_dropout_risk_with_french_reasons_then_it_clears_on_return() -> None:
    days = school_days(date(2025, 9, 8), date(2026, 1, 30))
    assert len(days) > 70
    pupil = factories.student(1)
    events = [e for d in days[:40] for e in a_day_of_work(pupil, d)]
    events += [e for d in days for e in a_day_of_work(factories.student(2), d)]
    events += [e for d in days[60:] for e in a_day_of_work(pupil, d)]
    changes = [
        c
        for c in run(SignalEngine({}, partitions=1), sorted(events, key=lambda e: e.occurred_at), batch=50)
        if c.signal_type == RISK_SIGNAL and c.student_id == pupil
    ]
    raised = next(c for c in changes if c.status == "raised")
    assert days[40] <= raised.occurred_at.date() <= days[59]
    assert raised.reasons[0].code == "dropout_risk" and 0 < raised.reasons[0].value <= 1
    assert raised.reasons[0].text.startswith("Risque de décrochage estimé à")
    assert len(raised.reasons) >= 2 and all(r.text for r in raised.reasons)
    assert changes[-1].status == "cleared" and changes[-1].occurred_at.date() > days[60]
