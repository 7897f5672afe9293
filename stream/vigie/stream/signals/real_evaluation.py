"""``vigie evaluate signals --activity A.csv --truth T.csv``: the dropout risk on a real log, next to
"no activity for N days".

The model is fitted on the train files when given (``--train-activity``/``--train-truth``), else
cross-fitted: each course is scored by a model fitted on the other courses (by enrolment when there is
only one course). Scored rows are the checkpoints of ``real_logs`` (at-risk enrolments every 7 days).

- ``auc``: of the calibrated risk over all scored rows.
- Alert = risk at or above the model's ``medium`` threshold (set on the training history from a target
  precision, see ``risk_fit``). ``precision`` = share of alerted rows that are positives; ``recall`` =
  share of positive rows alerted; ``lead_days_median`` = over the withdrawals alerted at least once
  while positive, days from their first such alert to the withdrawal (``None`` when judged at the end).
- Baseline: alert when the enrolment has been without activity for ``baseline_days`` days or more.
  ``baseline_sweep``: the rule for N = 7..70 days, with the risk's precision at the same recall (the
  risk's threshold moved to reach it), so "beats the best N" can be read off directly.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from vigie.stream.signals.real_logs import Rows, feature_rows, read_activity, read_truth
from vigie.stream.signals.risk_fit import FitOptions, fit
from vigie.stream.signals.risk_model import RiskModel

#: On real logs no threshold reaches an absolute precision: severities are multiples of the positive rate.
REAL_LOG_TARGETS = FitOptions(targets=(1.5, 2.5, 4.0), relative=True)
SWEEP_DAYS = (7, 14, 21, 28, 35, 42, 56, 70)


@dataclass(frozen=True, slots=True)
class Flagging:
    precision: float
    recall: float
    lead_days_median: float | None
    alerts: int

    def as_json(self) -> dict[str, Any]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "lead_days_median": self.lead_days_median,
            "alerts": self.alerts,
        }


def flagging(flags: np.ndarray, rows: Rows) -> Flagging:
    y = np.asarray(rows.y)
    alerts, tp = int(flags.sum()), int((flags & (y == 1)).sum())
    first: dict[str, float] = {}
    for flag, positive, student, lead in zip(flags, y, rows.student, rows.lead, strict=True):
        if flag and positive and lead is not None:
            first[student] = max(first.get(student, lead), lead)  # the earliest alert has the longest lead
    return Flagging(
        precision=tp / alerts if alerts else 0.0,
        recall=tp / max(1, int(y.sum())),
        lead_days_median=float(statistics.median(first.values())) if first else None,
        alerts=alerts,
    )


def auc(scores: np.ndarray, y: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, scores)) if 0 < y.sum() < len(y) else float("nan")


def _fit(rows: Rows, horizon: int, label: str) -> RiskModel:
    return fit(
        np.asarray(rows.x),
        np.asarray(rows.y),
        np.asarray(rows.course if len(set(rows.course)) > 1 else rows.student),
        horizon=horizon,
        fitted_on=label,
        options=REAL_LOG_TARGETS,
    )


def _subset(rows: Rows, keep: Sequence[bool]) -> Rows:
    out = Rows(judged_at_end=rows.judged_at_end)
    for name in ("x", "y", "student", "course", "checkpoint", "since", "lead"):
        setattr(out, name, [v for v, k in zip(getattr(rows, name), keep, strict=True) if k])
    return out


def score_rows(test: Rows, train: Rows | None, horizon: int) -> tuple[np.ndarray, list[float]]:
    """Calibrated risks of ``test`` and, per row, the medium (alert) threshold of the model that scored it."""
    if train is not None:
        model = _fit(train, horizon, "train files")
        return np.array([model.score(x).risk for x in test.x]), [model.severities.get("medium", 1.01)] * len(test.y)
    groups = test.course if len(set(test.course)) > 1 else test.student
    names = sorted(set(groups))
    folds = {g: i % min(5, len(names)) for i, g in enumerate(names)}
    risk, cut = np.zeros(len(test.y)), [1.01] * len(test.y)
    for k in sorted(set(folds.values())):
        inside = [folds[g] == k for g in groups]
        model = _fit(_subset(test, [not v for v in inside]), horizon, f"cross-fit fold {k}")
        for i, (x, keep) in enumerate(zip(test.x, inside, strict=True)):
            if keep:
                risk[i], cut[i] = model.score(x).risk, model.severities.get("medium", 1.01)
    return risk, cut


def evaluate_real(
    activity: Path,
    truth: Path,
    *,
    train_activity: Path | None = None,
    train_truth: Path | None = None,
    horizon: int = 60,
    baseline_days: int = 7,
) -> dict[str, Any]:
    enrolments = read_truth(truth)
    test = feature_rows(enrolments, read_activity(activity, enrolments, truth), horizon)
    train = None
    if train_activity is not None and train_truth is not None:
        train_enrolments = read_truth(train_truth)
        train = feature_rows(train_enrolments, read_activity(train_activity, train_enrolments, train_truth), horizon)
    risk, cut = score_rows(test, train, horizon)
    y = np.asarray(test.y)
    since = np.asarray(test.since)
    vigie = flagging(risk >= np.asarray(cut), test)
    baseline = flagging(since >= baseline_days, test)
    sweep = []
    for n in SWEEP_DAYS:
        rule = flagging(since >= n, test)
        positives = np.sort(risk[y == 1])[::-1]
        k = max(1, round(rule.recall * len(positives)))
        matched = flagging(risk >= positives[min(k, len(positives)) - 1], test) if len(positives) else rule
        sweep.append({"days": n, "baseline": rule.as_json(), "vigie_at_equal_recall": matched.as_json()})
    bins = [0.0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1.01]
    reliability = []
    for lo, hi in pairwise(bins):
        inside = (risk >= lo) & (risk < hi)
        if inside.any():
            reliability.append(
                {
                    "risk_from": lo,
                    "risk_to": min(hi, 1.0),
                    "rows": int(inside.sum()),
                    "mean_risk": round(float(risk[inside].mean()), 4),
                    "observed": round(float(y[inside].mean()), 4),
                }
            )
    return {
        "vigie": {
            "auc": round(auc(risk, y), 4),
            **vigie.as_json(),
            "checkpoints": len(y),
            "positive_rate": round(float(y.mean()) if len(y) else 0.0, 4),
            "alert_threshold": round(float(np.median(cut)), 4),
        },
        "baseline": {**baseline.as_json(), "days": baseline_days},
        "baseline_sweep": sweep,
        "reliability": reliability,
        "protocol": {
            "horizon_days": horizon,
            "judged_at_end": test.judged_at_end,
            "fitted_on": "train files" if train is not None else "cross-fit by course",
        },
    }
