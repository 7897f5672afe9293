"""The school model's alert threshold, chosen on training histories only, for what a teacher lives.

A teacher judges the list of pupils flagged, not pupil-days: a pupil flagged once in the year who
never disengages is a false alarm. So the ``medium`` threshold (the alert) and the persistence of the
alert policy (``risk_policy``) are chosen on the training histories' *out-of-fold* risks (each pupil
scored by a model that never saw them), replaying each pupil's days through the same policy as the
worker and scoring them as ``vigie evaluate signals`` does (``evaluation.score``): the lowest threshold
whose pupil-level precision reaches the target with at least the minimum recall and median lead, the
longest lead first (else the most precise with that recall and lead).  The evaluation seeds are never seen here.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import numpy as np

from vigie.stream.signals.evaluation import Scores, score
from vigie.stream.signals.risk_fit import FitOptions, fit_with_oof
from vigie.stream.signals.risk_model import RiskModel
from vigie.stream.signals.risk_policy import SEVERITY_ORDER, AlertPolicy, replay
from vigie.stream.signals.risk_training import HORIZON, Disengagement, label

log = logging.getLogger(__name__)

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class AlertTarget:
    precision: float = 0.5  # pupils flagged who go on to disengage
    min_recall: float = 0.8  # disengaging pupils flagged (from ``window`` school days before the drop-out)
    min_lead: float = 5.0  # median school days from the first counted flag to the drop-out
    window: int = 10  # school days before a drop-out from which a flag counts (as the evaluation)
    raise_days: tuple[int, ...] = (1, 2, 3)
    hysteresis: float = 0.8


@dataclass(frozen=True, slots=True)
class AlertChoice:
    cut: float
    policy: AlertPolicy
    train: Scores  # pupil level, on the training histories' out-of-fold risks

    def describe(self) -> str:
        t = self.train
        return (
            f"alert >= {self.cut:.3f} on {self.policy.raise_days} school day(s), training pupils: precision "
            f"{t.precision:.3f}, recall {t.recall:.3f}, median lead {t.lead_days_median}"
        )

    def as_json(self) -> dict[str, Any]:
        return {"cut": self.cut, "policy": self.policy.as_json(), "train": self.train.as_json()}


def pupil_flags(
    series: Mapping[str, Sequence[tuple[date, float]]], severities: Mapping[str, float], policy: AlertPolicy
) -> dict[str, list[date]]:
    """Per pupil, the days the signal reaches medium or more (raised or changed), as the worker emits them:
    the evaluation of the school day ``d`` is emitted at the boundary that opens ``d + 1``."""
    medium = SEVERITY_ORDER.index("medium")
    flags: dict[str, list[date]] = defaultdict(list)
    for pupil, days in series.items():
        for i, severity in replay(severities, [r for _, r in days], policy):
            if severity is not None and SEVERITY_ORDER.index(severity) >= medium:
                flags[pupil].append(days[i][0] + ONE_DAY)
    return flags


def choose_alert(
    series: Mapping[str, Sequence[tuple[date, float]]],
    truth: Mapping[str, Disengagement],
    severities: Mapping[str, float],
    target: AlertTarget,
) -> AlertChoice:
    """The alert threshold and persistence that meet ``target`` on these (out-of-fold) daily risks."""
    risks = np.asarray([r for days in series.values() for _, r in days])
    candidates = np.unique(np.round(np.quantile(risks, np.linspace(0.80, 0.999, 120)), 6))
    high = severities.get("high")
    tried: list[AlertChoice] = []
    for raise_days in target.raise_days:
        policy = AlertPolicy(raise_days, target.hysteresis)
        for cut in candidates:
            levels = {"medium": float(cut)} | ({"high": high} if high is not None and high > cut else {})
            tried.append(
                AlertChoice(float(cut), policy, score(pupil_flags(series, levels, policy), truth, target.window))
            )

    def lead(c: AlertChoice) -> float:
        return c.train.lead_days_median if c.train.lead_days_median is not None else -99.0

    enough = [c for c in tried if c.train.recall >= target.min_recall and lead(c) >= target.min_lead]
    good = [c for c in enough if c.train.precision >= target.precision]
    if good:  # every target met: the earliest warning
        best = max(good, key=lambda c: (lead(c), c.train.recall, -c.cut))
    elif enough:  # in time and enough of them: the most precise
        best = max(enough, key=lambda c: (c.train.precision, lead(c)))
    else:  # the lead cannot be had: the most precise of those with enough recall
        some = [c for c in tried if c.train.recall >= target.min_recall] or tried
        best = max(some, key=lambda c: (c.train.precision, lead(c)))
    log.info("alert chosen on training histories: %s", best.describe())
    return best


def fit_school(
    logs: Sequence[tuple[list[tuple[str, date, list[float]]], Mapping[str, Disengagement]]],
    fitted_on: str,
    options: FitOptions | None = None,
    target: AlertTarget | None = None,
    horizon: int = HORIZON,
    gone: bool = True,
) -> tuple[RiskModel, AlertChoice]:
    """Fit the school model on several (feature log, truth) histories, then choose its alert on them
    (``gone``: the first ``horizon`` school days after a drop-out are fitted as positives, see ``label``)."""
    xs, ys, groups, scored, days = [], [], [], [], []
    truth: dict[str, Disengagement] = {}
    for n, (feature_log, known) in enumerate(logs):
        for pupil, day, features in feature_log:
            who = known.get(pupil)
            value = label(who, day, horizon, gone=gone)
            if value is None:
                continue
            key = f"{n}:{pupil}"
            xs.append(features)
            ys.append(value)
            groups.append(key)
            scored.append(label(who, day, horizon) is not None)
            days.append(day)
            if who is not None:
                truth[key] = who
    model, oof = fit_with_oof(
        np.asarray(xs),
        np.asarray(ys),
        np.asarray(groups),
        horizon=horizon,
        fitted_on=fitted_on,
        options=options,
        scored=np.asarray(scored),
    )
    series: dict[str, list[tuple[date, float]]] = defaultdict(list)
    for key, day, risk in zip(groups, days, oof, strict=True):
        series[key].append((day, float(risk)))
    for rows in series.values():
        rows.sort()
    choice = choose_alert(series, truth, model.severities, target or AlertTarget())
    severities = {"medium": choice.cut}
    low, high = model.severities.get("low"), model.severities.get("high")
    if low is not None and low < choice.cut:
        severities["low"] = low
    if high is not None and high > choice.cut:
        severities["high"] = high
    fitted = replace(
        model,
        severities=severities,
        policy=choice.policy,
        fitted_on=f"{fitted_on}; {choice.describe()}",
    )
    return fitted, choice
