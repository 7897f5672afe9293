"""When the dropout risk raises, keeps, changes and clears its signal: one home for the worker and the fitting.

A teacher's list must be stable: a pupil should not appear one day and vanish the next because the
risk crossed a threshold by a hair. So a severity is *reached* only when the risk has been at or above
its threshold for ``raise_days`` consecutive school-day evaluations, and an open severity is *kept*
while the risk stays above ``hysteresis`` times its threshold (raise/clear hysteresis). The same
function decides in the stream (``SignalEngine``) and when the alert threshold is chosen on training
histories (``risk_alerts``), so what is chosen is what runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vigie.core.contract.events import Severity

SEVERITY_ORDER: tuple[Severity, ...] = ("low", "medium", "high")


@dataclass(frozen=True, slots=True)
class AlertPolicy:
    raise_days: int = 1  # consecutive school-day evaluations at or above a threshold before it is reached
    hysteresis: float = 0.8  # an open level is kept while the risk stays at or above this x its threshold

    def as_json(self) -> dict[str, Any]:
        return {"raise_days": self.raise_days, "hysteresis": self.hysteresis}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> AlertPolicy:
        if not data:
            return cls()
        return cls(raise_days=max(1, int(data["raise_days"])), hysteresis=float(data["hysteresis"]))


def decide(
    severities: Mapping[str, float], recent: Sequence[float], current: Severity | None, policy: AlertPolicy
) -> Severity | None:
    """The severity after the latest evaluation: ``recent`` holds the last risks, newest last (at least
    one; ``policy.raise_days`` of them are looked at); ``current`` is the open severity, if any."""
    risk = recent[-1]
    window = recent[-policy.raise_days :]
    sustained = min(window) if len(window) >= policy.raise_days else -1.0
    held = SEVERITY_ORDER.index(current) if current is not None else -1
    found: Severity | None = None
    for i, name in enumerate(SEVERITY_ORDER):
        cut = severities.get(name)
        if cut is None:
            continue
        if sustained >= cut or (i <= held and risk >= policy.hysteresis * cut):
            found = name
    return found


def replay(
    severities: Mapping[str, float], risks: Sequence[float], policy: AlertPolicy
) -> list[tuple[int, Severity | None]]:
    """The changes a pupil's daily risks produce, as (index of the evaluation, new severity or None)."""
    changes: list[tuple[int, Severity | None]] = []
    current: Severity | None = None
    for i in range(len(risks)):
        now = decide(severities, risks[max(0, i + 1 - policy.raise_days) : i + 1], current, policy)
        if now != current:
            changes.append((i, now))
            current = now
    return changes


def open_at_least(
    log: Sequence[tuple[str, float]], severities: Mapping[str, float], policy: AlertPolicy, level: Severity = "medium"
) -> list[bool]:
    """Per daily evaluation (pupil, risk), each pupil's in time order, whether the pupil's signal is open at
    ``level`` or more after it: the pupils on the teacher's list that day."""
    floor = SEVERITY_ORDER.index(level)
    recent: dict[str, list[float]] = {}
    current: dict[str, Severity | None] = {}
    out = []
    for pupil, risk in log:
        window = recent.setdefault(pupil, [])
        window.append(risk)
        del window[: -policy.raise_days]
        now = decide(severities, window, current.get(pupil), policy)
        current[pupil] = now
        out.append(now is not None and SEVERITY_ORDER.index(now) >= floor)
    return out
