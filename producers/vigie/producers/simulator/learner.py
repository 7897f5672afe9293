"""The latent learner: per pupil and skill, a binary "knows" state that learns, forgets, guesses, slips.

This is Bayesian Knowledge Tracing run forwards (as a generator, not an estimator), plus forgetting:
- an answer is observed from the state *before* it: right with ``1 - slip`` if the pupil knows the
  skill, with ``guess`` otherwise;
- then a pupil who did not know learns with ``learn`` (an effortful answer only; a rapid guess
  teaches nothing);
- a known skill left unpractised is kept with probability ``0.5 ** (days / half_life)``.
Pure functions and small dataclasses, with the random source passed in.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class SkillTruth:
    """The true parameters of one skill for an average pupil (ability 0)."""

    skill_code: str
    p_init: float
    p_learn: float
    p_guess: float
    p_slip: float
    half_life_days: float


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def draw_skill(skill_code: str, seed: int) -> SkillTruth:
    """Parameters of a skill, the same for every run with this seed."""
    rng = random.Random(f"{seed}/skill/{skill_code}")
    return SkillTruth(
        skill_code=skill_code,
        p_init=round(rng.uniform(0.05, 0.35), 3),
        p_learn=round(rng.uniform(0.05, 0.20), 3),
        p_guess=round(rng.uniform(0.12, 0.28), 3),
        p_slip=round(rng.uniform(0.05, 0.12), 3),
        half_life_days=round(rng.uniform(25.0, 80.0), 1),
    )


@dataclass(frozen=True, slots=True)
class PupilSkill:
    """A skill's parameters as they apply to one pupil of a given ability (a z-score)."""

    skill: SkillTruth
    p_init: float
    p_learn: float

    @classmethod
    def of(cls, skill: SkillTruth, ability: float) -> PupilSkill:
        p_init = _sigmoid(_logit(skill.p_init) + 0.8 * ability)
        p_learn = min(0.6, max(0.01, skill.p_learn * math.exp(0.35 * ability)))
        return cls(skill, p_init, p_learn)


@dataclass(slots=True)
class LatentState:
    """Whether the pupil knows the skill now, and when it was last practised."""

    knows: bool
    last_practice: datetime | None = None


def forget(state: LatentState, now: datetime, half_life_days: float, rng: random.Random) -> None:
    """Apply forgetting since the last practice (a known skill may be lost; an unknown stays unknown)."""
    if state.knows and state.last_practice is not None:
        days = (now - state.last_practice).total_seconds() / 86_400.0
        if days > 0 and rng.random() >= 0.5 ** (days / half_life_days):
            state.knows = False


def answer(
    state: LatentState,
    params: PupilSkill,
    now: datetime,
    rng: random.Random,
    *,
    extra_slip: float = 0.0,
    learn_factor: float = 1.0,
    rapid_guess: bool = False,
) -> bool:
    """One practice opportunity: forget since last time, answer, maybe learn. Returns correctness.

    ``extra_slip`` and ``learn_factor`` model a pupil who no longer makes the effort; a rapid guess is
    right only by chance and teaches nothing.
    """
    forget(state, now, params.skill.half_life_days, rng)
    if rapid_guess:
        correct = rng.random() < params.skill.p_guess
    elif state.knows:
        correct = rng.random() >= min(0.9, params.skill.p_slip + extra_slip)
    else:
        correct = rng.random() < params.skill.p_guess
    if not state.knows and not rapid_guess and rng.random() < params.p_learn * learn_factor:
        state.knows = True
    state.last_practice = now
    return correct
