"""The dropout risk on school-day histories: labels, feature logs, and what a teacher lives day by day (the
fitting of the school model is ``risk_alerts.fit_school``).

Label (what the warehouse's history gives, see docs/signals.md): at the end of school day ``d`` a
pupil is a *positive* if their last day of activity before a long silence (``disengagement``) falls
in the next ``horizon`` school days, ``(d, d + horizon]``. Scoring leaves out the day of disengagement
and every day after it (the pupil has already gone: not a prediction any more); fitting counts the
first ``horizon`` school days after it as positives (see ``label``). On the simulator the
disengagement day is the truth's ``dropout_date``.

Rows come from ``SignalEngine.feature_log``: the features the worker computes at each school-day
boundary, so fitting, evaluation and the stream share one code path.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from itertools import pairwise
from typing import Any, Protocol

import numpy as np

from vigie.core.contract.events import LearningEvent
from vigie.core.contract.referential import Zone
from vigie.stream.signals.risk_features import school_time
from vigie.stream.signals.risk_model import RiskModel
from vigie.stream.signals.risk_policy import open_at_least

HORIZON = 20  # school days
LEAD = 5  # school days: a warning this early lets a teacher act


class Disengagement(Protocol):
    """What the labels need to know of a pupil (the simulator's ``PupilTruth`` is one)."""

    @property
    def disengages(self) -> bool: ...

    @property
    def dropout_date(self) -> date | None: ...

    @property
    def zone(self) -> Zone: ...


@lru_cache(maxsize=1 << 16)
def _t(day: date, zone: Zone) -> int:
    return school_time(day, zone)


def label(truth: Disengagement | None, day: date, horizon: int = HORIZON, *, gone: bool = False) -> int | None:
    """1, 0, or None (left out). From the disengagement day on, the pupil is left out of what is scored
    (``gone=False``: not a prediction any more); for fitting (``gone=True``) the first ``horizon`` school
    days after it are positives, so the model learns that a pupil silent for weeks is still to follow."""
    if truth is None or not truth.disengages or truth.dropout_date is None:
        return 0
    ahead = _t(truth.dropout_date, truth.zone) - _t(day, truth.zone)
    if day >= truth.dropout_date:
        return 1 if gone and -ahead < horizon else None
    return int(ahead <= horizon)


def feature_log(
    events: Iterable[LearningEvent], *, partitions: int = 6, batch_size: int = 500
) -> list[tuple[str, date, list[float]]]:
    """Run the events through the worker's logic without scoring, keeping every daily feature vector."""
    from vigie.stream.signals.engine import SignalEngine

    engine = SignalEngine({}, partitions=partitions, score_risk=False)
    engine.feature_log = []
    batch: list[LearningEvent] = []
    for event in events:
        batch.append(event)
        if len(batch) >= batch_size:
            engine.process(batch)
            engine.tick()
            batch = []
    engine.process(batch)
    engine.tick()
    return engine.feature_log


@dataclass(frozen=True, slots=True)
class DailyAlerts:
    """What a teacher lives: the pupils flagged each school day, and how often they were right."""

    school_days: int
    flagged_per_day: float  # mean pupils flagged per school day (at-risk set)
    alert_precision: float  # flagged pupil-days whose pupil disengages within the horizon
    recall_at_lead: float  # disengaging pupils flagged at least LEAD school days before
    lead_days_median: float | None  # first flag within the horizon to disengagement, school days
    auc: float
    positive_rate: float
    reliability: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        return {
            "school_days": self.school_days,
            "flagged_per_day": round(self.flagged_per_day, 2),
            "alert_precision": round(self.alert_precision, 4),
            "recall_at_lead": round(self.recall_at_lead, 4),
            "lead_days_median": self.lead_days_median,
            "auc": round(self.auc, 4),
            "positive_rate": round(self.positive_rate, 4),
            "reliability": self.reliability,
        }


RELIABILITY_BINS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.01)


def reliability(risk: np.ndarray, y: np.ndarray) -> list[dict[str, Any]]:
    out = []
    for lo, hi in pairwise(RELIABILITY_BINS):
        inside = (risk >= lo) & (risk < hi)
        if inside.any():
            out.append(
                {
                    "risk_from": lo,
                    "risk_to": min(hi, 1.0),
                    "rows": int(inside.sum()),
                    "mean_risk": round(float(risk[inside].mean()), 4),
                    "observed": round(float(y[inside].mean()), 4),
                }
            )
    return out


def daily_alerts(
    risk_log: Sequence[tuple[str, date, float]],
    truth: Mapping[str, Disengagement],
    model: RiskModel,
    horizon: int = HORIZON,
) -> DailyAlerts:
    """Per school day, the pupils on the list (an open signal of medium or more under the model's alert
    policy, as the worker keeps it), and how often they were right."""
    from sklearn.metrics import roc_auc_score

    listed = open_at_least([(pupil, value) for pupil, _, value in risk_log], model.severities, model.policy)
    risks, ys, listed_rows, days = [], [], [], set()
    flagged: dict[date, int] = defaultdict(int)
    first_flag: dict[str, date] = {}
    for (pupil, day, value), on_list in zip(risk_log, listed, strict=True):
        known = truth.get(pupil)
        y = label(known, day, horizon)
        if y is None:
            continue
        days.add(day)
        risks.append(value)
        ys.append(y)
        listed_rows.append(on_list)
        if on_list:
            flagged[day] += 1
            if y == 1 and (pupil not in first_flag or day < first_flag[pupil]):
                first_flag[pupil] = day
    r, t = np.asarray(risks), np.asarray(ys)
    alerts = np.asarray(listed_rows, dtype=bool)
    leads = []
    for pupil, day in first_flag.items():
        known = truth[pupil]
        assert known.dropout_date is not None
        leads.append(_t(known.dropout_date, known.zone) - _t(day, known.zone))
    leavers = sum(1 for k in truth.values() if k.disengages and k.dropout_date is not None)
    return DailyAlerts(
        school_days=len(days),
        flagged_per_day=float(alerts.sum()) / max(1, len(days)),
        alert_precision=float(t[alerts].mean()) if alerts.any() else 0.0,
        recall_at_lead=sum(lead >= LEAD for lead in leads) / max(1, leavers),
        lead_days_median=float(statistics.median(leads)) if leads else None,
        auc=float(roc_auc_score(t, r)) if 0 < t.sum() < len(t) else float("nan"),
        positive_rate=float(t.mean()) if len(t) else 0.0,
        reliability=reliability(r, t),
    )
