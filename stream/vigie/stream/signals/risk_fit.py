"""Fitting the dropout risk model from history (offline: scikit-learn and numpy, never in the worker).

1. Each feature is cut at quantiles of the history (``bins`` per feature, repeated cut points merged)
   and one-hot encoded; an L2-regularised logistic regression (scikit-learn) weighs the bins.
2. Calibration: out-of-fold raw probabilities (``GroupKFold`` over groups such as classes or courses,
   so a group never calibrates itself) are mapped to observed rates by isotonic regression, on the
   ``scored`` rows only (the pupils still there: what a risk is judged on).
3. Severities from target precisions: on the out-of-fold calibrated risks, a severity's threshold is
   the lowest risk such that the rows at or above it are positives at least ``target`` of the time.
   Targets are absolute precisions, or multiples of the history's positive rate (``relative=True``:
   useful on logs where no threshold reaches an absolute target).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from vigie.stream.signals.risk_features import FEATURES
from vigie.stream.signals.risk_model import SEVERITY_ORDER, RiskModel

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FitOptions:
    bins: int = 8
    c: float = 0.1  # inverse L2 strength of the logistic regression
    folds: int = 5
    targets: tuple[float, float, float] = (0.3, 0.5, 0.7)  # precision of low, medium, high
    relative: bool = False  # targets are multiples of the positive rate


def _edges(column: NDArray[np.float64], bins: int) -> tuple[float, ...]:
    cuts = np.quantile(column, np.linspace(0, 1, bins + 1)[1:-1])
    return tuple(float(c) for c in np.unique(np.round(cuts, 6)))


def _design(x: NDArray[np.float64], edges: Sequence[tuple[float, ...]]) -> NDArray[np.float64]:
    blocks = []
    for j, e in enumerate(edges):
        index = np.searchsorted(np.asarray(e), x[:, j], side="right")
        block = np.zeros((x.shape[0], len(e) + 1))
        block[np.arange(x.shape[0]), index] = 1.0
        blocks.append(block)
    return np.hstack(blocks)


def _logistic(design: NDArray[np.float64], y: NDArray[np.int64], c: float):  # type: ignore[no-untyped-def]
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=5000).fit(design, y)


def severity_thresholds(risk: NDArray[np.float64], y: NDArray[np.int64], targets: Sequence[float]) -> dict[str, float]:
    """Per severity, the lowest risk whose rows at or above it reach the target precision (absent if none)."""
    order = np.argsort(-risk, kind="stable")
    r, hits = risk[order], np.cumsum(y[order])
    precision = hits / np.arange(1, len(r) + 1)
    out: dict[str, float] = {}
    for name, target in zip(SEVERITY_ORDER, targets, strict=True):
        # only cut between distinct risks: all rows of one risk value share the decision
        last_of_value = np.r_[r[1:] != r[:-1], True]
        ok = np.nonzero((precision >= target) & last_of_value & (np.arange(len(r)) >= 19))[0]
        if len(ok):
            out[name] = round(float(r[ok[-1]]), 6)
    return out


def fit(
    x: NDArray[np.float64],
    y: NDArray[np.int64],
    groups: NDArray[np.str_],
    *,
    horizon: int,
    fitted_on: str,
    options: FitOptions | None = None,
    scored: NDArray[np.bool_] | None = None,
) -> RiskModel:
    """Fit, calibrate and set the severities of a risk model (``fit_with_oof`` without the out-of-fold risks)."""
    return fit_with_oof(x, y, groups, horizon=horizon, fitted_on=fitted_on, options=options, scored=scored)[0]


def fit_with_oof(
    x: NDArray[np.float64],
    y: NDArray[np.int64],
    groups: NDArray[np.str_],
    *,
    horizon: int,
    fitted_on: str,
    options: FitOptions | None = None,
    scored: NDArray[np.bool_] | None = None,
) -> tuple[RiskModel, NDArray[np.float64]]:
    """Fit, calibrate and set the severities of a risk model on feature rows ``x`` and labels ``y``; also
    return each row's calibrated out-of-fold risk (its group never fitted it), to choose alert policies on.

    ``scored`` marks the rows the severities (and the positive rate) are judged on: the pupils still
    there, when ``x`` also holds rows of pupils already gone (fitted on, not predicted)."""
    from sklearn.isotonic import IsotonicRegression
    from sklearn.model_selection import GroupKFold

    o = options or FitOptions()
    if x.shape[1] != len(FEATURES):
        raise ValueError(f"expected {len(FEATURES)} features, got {x.shape[1]}")
    if len(np.unique(y)) < 2:
        raise ValueError("the history needs both positives and negatives to fit a risk model")
    edges = [_edges(x[:, j], o.bins) for j in range(x.shape[1])]
    design = _design(x, edges)
    folds = min(o.folds, len(np.unique(groups)))
    oof = np.zeros(len(y))
    for train, test in GroupKFold(folds).split(design, y, groups):
        if len(np.unique(y[train])) < 2:
            oof[test] = y[train].mean()
            continue
        oof[test] = _logistic(design[train], y[train], o.c).predict_proba(design[test])[:, 1]
    judged = np.ones(len(y), dtype=bool) if scored is None else scored
    # Calibrated on the rows a risk is judged on (pupils still there): rows of pupils already gone are
    # fitted as positives so that a long silence ranks high, but counting them here would make a risk
    # of 0.6 mean "0.6 of pupils still there *or gone*" and over-state it for the pupils a teacher sees.
    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(oof[judged], y[judged])
    calibrated = iso.predict(oof)
    rate = float(y[judged].mean())
    targets = [t * rate for t in o.targets] if o.relative else list(o.targets)
    model = _logistic(design, y, o.c)
    coef, offset, weights, reference = model.coef_[0], 0, [], []
    for e in edges:
        w = coef[offset : offset + len(e) + 1]
        counts = design[:, offset : offset + len(e) + 1].sum(axis=0)
        weights.append(tuple(round(float(v), 6) for v in w))
        reference.append(round(float((w * counts).sum() / counts.sum()), 6))
        offset += len(e) + 1
    fitted = RiskModel(
        features=FEATURES,
        edges=tuple(edges),
        weights=tuple(weights),
        intercept=round(float(model.intercept_[0]), 6),
        reference=tuple(reference),
        typical=tuple(round(float(v), 4) for v in np.median(x, axis=0)),
        calibration_x=tuple(round(float(v), 6) for v in iso.X_thresholds_),
        calibration_y=tuple(round(float(v), 6) for v in iso.y_thresholds_),
        severities=severity_thresholds(calibrated[judged], y[judged], targets),
        horizon=horizon,
        positive_rate=round(rate, 6),
        fitted_on=fitted_on,
    )
    log.info("risk model fitted on %d rows (%.3f positive), severities %s", len(y), rate, fitted.severities)
    return fitted, calibrated
