"""The dropout risk model, scored in pure Python: binned logistic regression, then isotonic calibration.

Weights are fitted offline from history (``risk_fit``, scikit-learn) and shipped as JSON; scoring a
pupil is a few bisections and a sum (microseconds), so the stream never imports scikit-learn or numpy.

Each feature is cut into bins (quantiles of the history) and each bin has its own weight, so the
model follows non-linear shapes (a short silence means little, a long one a lot) while staying
additive: a feature's *contribution* is its bin's weight minus the average weight of that feature
over the history. The largest positive contributions are the reasons shown to the teacher.
"""

from __future__ import annotations

import json
import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from vigie.core.contract.events import Severity
from vigie.core.errors import ConfigurationError
from vigie.stream.signals.risk_features import FEATURES
from vigie.stream.signals.risk_policy import SEVERITY_ORDER, AlertPolicy, decide

__all__ = ["SEVERITY_ORDER", "RiskModel", "RiskScore", "default_model"]

DEFAULT_POLICY = AlertPolicy()


@dataclass(frozen=True, slots=True)
class RiskScore:
    risk: float  # calibrated probability of disengaging within the horizon
    logit: float  # the logistic regression's log-odds, before calibration
    contributions: tuple[float, ...]  # per feature, in log-odds against the average pupil of the history


@dataclass(frozen=True, slots=True)
class RiskModel:
    features: tuple[str, ...]
    edges: tuple[tuple[float, ...], ...]  # per feature: inner bin edges (bin = bisect_right(edges, x))
    weights: tuple[tuple[float, ...], ...]  # per feature: one weight per bin
    intercept: float
    reference: tuple[float, ...]  # per feature: mean weight over the history
    typical: tuple[float, ...]  # per feature: median value over the history (shown in reasons)
    calibration_x: tuple[float, ...]  # isotonic calibration of the raw probability (piecewise linear)
    calibration_y: tuple[float, ...]
    severities: dict[str, float]  # severity -> lowest calibrated risk of that severity
    horizon: int  # time units (school days, or days of a real log)
    positive_rate: float
    fitted_on: str
    policy: AlertPolicy = DEFAULT_POLICY  # how the signal is raised and cleared (risk_policy)

    # -- scoring --------------------------------------------------------------------------------
    def score(self, x: list[float]) -> RiskScore:
        z = self.intercept
        contributions = []
        for value, edges, weights, ref in zip(x, self.edges, self.weights, self.reference, strict=True):
            w = weights[bisect_right(edges, value)]
            z += w
            contributions.append(w - ref)
        raw = 1.0 / (1.0 + math.exp(-z)) if z > -30 else 0.0
        return RiskScore(self.calibrate(raw), z, tuple(contributions))

    def calibrate(self, raw: float) -> float:
        xs, ys = self.calibration_x, self.calibration_y
        if not xs:
            return raw
        if raw <= xs[0]:
            return ys[0]
        if raw >= xs[-1]:
            return ys[-1]
        i = bisect_left(xs, raw)
        x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
        return y0 if x1 == x0 else y0 + (y1 - y0) * (raw - x0) / (x1 - x0)

    def severity(
        self, risk: float, current: Severity | None = None, hysteresis: float | None = None
    ) -> Severity | None:
        """The severity of a risk on its own (no persistence): an open signal keeps its level until the risk
        falls below ``hysteresis`` (default: the policy's) times that level's threshold."""
        policy = AlertPolicy(1, self.policy.hysteresis if hysteresis is None else hysteresis)
        return decide(self.severities, (risk,), current, policy)

    def decide(self, recent: list[float], current: Severity | None) -> Severity | None:
        """The severity under the model's alert policy, from the last daily risks (newest last)."""
        return decide(self.severities, recent, current, self.policy)

    # -- storage --------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "edges": [list(e) for e in self.edges],
            "weights": [list(w) for w in self.weights],
            "intercept": self.intercept,
            "reference": list(self.reference),
            "typical": list(self.typical),
            "calibration": {"x": list(self.calibration_x), "y": list(self.calibration_y)},
            "severities": self.severities,
            "horizon": self.horizon,
            "positive_rate": self.positive_rate,
            "fitted_on": self.fitted_on,
            "policy": self.policy.as_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RiskModel:
        if tuple(data["features"]) != FEATURES:
            raise ConfigurationError(
                f"risk model features {data['features']} differ from this version's {list(FEATURES)}: refit it"
            )
        return cls(
            features=tuple(data["features"]),
            edges=tuple(tuple(e) for e in data["edges"]),
            weights=tuple(tuple(w) for w in data["weights"]),
            intercept=float(data["intercept"]),
            reference=tuple(data["reference"]),
            typical=tuple(data["typical"]),
            calibration_x=tuple(data["calibration"]["x"]),
            calibration_y=tuple(data["calibration"]["y"]),
            severities={k: float(v) for k, v in data["severities"].items()},
            horizon=int(data["horizon"]),
            positive_rate=float(data["positive_rate"]),
            fitted_on=str(data["fitted_on"]),
            policy=AlertPolicy.from_json(data.get("policy")),
        )

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> RiskModel:
        try:
            return cls.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError) as exc:
            raise ConfigurationError(f"cannot read the risk model {path}: {exc}") from exc


@cache
def default_model() -> RiskModel:
    """The shipped model for schools (``risk_model.json`` beside this module; see docs/signals.md)."""
    text = resources.files("vigie.stream.signals").joinpath("risk_model.json").read_text(encoding="utf-8")
    return RiskModel.from_json(json.loads(text))
