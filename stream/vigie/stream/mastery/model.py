"""Bayesian Knowledge Tracing as pure functions: no I/O, no faust, O(1) per answer.

A pupil either knows a skill or not (a 2-state hidden Markov model). Per skill:

- ``p_init``: P(known) before any practice;
- ``p_learn``: P(unknown -> known) after one practice opportunity;
- ``p_guess``: P(correct | unknown); ``p_slip``: P(wrong | known);
- ``half_life_days``: optional forgetting: between two practices, P(known) is multiplied by
  ``0.5 ** (days since last practice / half_life_days)``. ``None`` means no forgetting (classic BKT).

One answer: decay for the time elapsed, then the Bayes posterior given the answer, then the
learning transition. The estimate before the answer (after decay) is what predicts the answer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

SECONDS_PER_DAY = 86_400.0
#: Estimates are kept strictly inside (0, 1) so that no answer can make the posterior undefined.
P_FLOOR = 1e-6
P_CEIL = 1.0 - 1e-6


@dataclass(frozen=True, slots=True)
class BktParams:
    """The parameters of one skill; ``version`` 0 means Vigie's defaults (never calibrated)."""

    p_init: float
    p_learn: float
    p_guess: float
    p_slip: float
    half_life_days: float | None = None
    version: int = 0

    def __post_init__(self) -> None:
        for name in ("p_init", "p_learn", "p_guess", "p_slip"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name}={value} is not a probability")
        if self.p_guess + self.p_slip >= 1.0:
            raise ValueError("p_guess + p_slip must be < 1, or a correct answer would mean 'unknown'")
        if self.half_life_days is not None and self.half_life_days <= 0:
            raise ValueError("half_life_days must be > 0 (or None for no forgetting)")


#: Defaults for a skill with too little history to calibrate (documented in the README of the stream):
#: a pupil starts with a 30% chance of knowing the skill, learns it with 10% per answer, guesses
#: 20% of items without knowing (short open or 4-5 choice items) and slips on 10%. No forgetting.
DEFAULT_PARAMS = BktParams(p_init=0.3, p_learn=0.1, p_guess=0.2, p_slip=0.1)


def _clamp(p: float) -> float:
    return P_FLOOR if p < P_FLOOR else P_CEIL if p > P_CEIL else p


def decay(p_known: float, elapsed_s: float, half_life_days: float | None) -> float:
    """P(known) after ``elapsed_s`` seconds without practice (unchanged without forgetting)."""
    if half_life_days is None or elapsed_s <= 0.0:
        return p_known
    return _clamp(p_known * math.exp(-math.log(2.0) * elapsed_s / (half_life_days * SECONDS_PER_DAY)))


def predict_correct(p_known: float, params: BktParams) -> float:
    """P(the next answer is correct) given P(known)."""
    return p_known * (1.0 - params.p_slip) + (1.0 - p_known) * params.p_guess


def posterior(p_known: float, correct: bool, params: BktParams) -> float:
    """P(known | this answer), before learning from it."""
    if correct:
        known = p_known * (1.0 - params.p_slip)
        unknown = (1.0 - p_known) * params.p_guess
    else:
        known = p_known * params.p_slip
        unknown = (1.0 - p_known) * (1.0 - params.p_guess)
    total = known + unknown
    return _clamp(known / total) if total > 0.0 else p_known


def observe(p_known: float, correct: bool, params: BktParams) -> float:
    """P(known) after one answer: Bayes' posterior, then the learning transition."""
    post = posterior(p_known, correct, params)
    return _clamp(post + (1.0 - post) * params.p_learn)


class SkillEstimate(NamedTuple):
    """What the stream keeps per (pupil, skill): P(known) after the last answer, how many, when."""

    p_known: float
    attempts: int
    last_at: float  # event time of the last answer, seconds since the epoch


class Step(NamedTuple):
    """The outcome of one answer: the estimate before it (after decay), after it, and the prediction."""

    p_before: float
    p_after: float
    p_correct: float
    estimate: SkillEstimate


def step(estimate: SkillEstimate | None, correct: bool, at: float, params: BktParams) -> Step:
    """Apply one answer given at ``at`` (epoch seconds) to a skill's estimate (``None``: first answer).

    Answers are applied in the order given (partition order); an answer whose time is earlier than
    the last one's counts as no elapsed time (no negative forgetting).
    """
    if estimate is None:
        p_before = _clamp(params.p_init)
        attempts = 0
        last_at = at
    else:
        p_before = decay(estimate.p_known, at - estimate.last_at, params.half_life_days)
        attempts = estimate.attempts
        last_at = max(at, estimate.last_at)
    p_after = observe(p_before, correct, params)
    return Step(p_before, p_after, predict_correct(p_before, params), SkillEstimate(p_after, attempts + 1, last_at))
