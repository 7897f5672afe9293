"""The learner model: a logistic model of the next answer on features kept up to date per answer.

BKT looks at one skill at a time. This model shares strength: what a pupil does on every skill
(an Elo-style ability, recent form, decayed success counts), on the skill's domain, and on the skill
itself, weighted towards recent answers, feeds one logistic regression whose weights are fitted
offline (``learner_fit.py``) on features computed by *this* module's ``step`` (so the fit and the
stream can never disagree about what a feature means).

State, pure Python lists (compact in orjson):

- per (pupil, skill) ``[c, w, c_fast, w_fast, n, streak, theta_s, last_at]``: success/failure counts
  (slow: decayed by time when the model has a half-life; fast: halved at every answer on the skill),
  answers, signed streak (+k right / -k wrong in a row), the pupil's offset on the skill (Elo);
- per (pupil, domain) ``[c, w]``; per pupil ``[theta, n, form, c_recent, w_recent, c, w, last_skill,
  last_correct]``.

The weights: a global vector over every feature, plus, for the ``CROSSED`` features, a deviation per
domain and per skill, fitted with an L2 penalty: a skill with few answers keeps weights near its
domain's, a domain near the global ones (shrinkage, no minimum number of answers). A skill's prior
difficulty (smoothed success rate, shrunk to its domain's, then to the global rate) is the Elo anchor.

Cost: one prediction is a dot product over ``N_FEATURES`` floats with the skill's effective weights
(global + domain + skill, combined once per skill and cached); no numpy per answer.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

SECONDS_PER_DAY = 86_400.0
MODEL_NAME = "learner"

#: Names of the features, in vector order. ``n=k``: k earlier answers on the skill (one-hot bins).
N_BINS = (0, 1, 2, 3, 4, 5, 6, 8, 11, 16)
STREAK_CAP = 4
BASE_FEATURES = (
    "bias",
    "skill_prior",
    "skill_c",
    "skill_w",
    "skill_c_fast",
    "skill_w_fast",
    "same_skill",
    "ability",
    "skill_offset",
    "domain_c",
    "domain_w",
    "pupil_c",
    "pupil_w",
    "pupil_c_recent",
    "pupil_w_recent",
    "form",
    "last_right",
    "last_wrong",
    "item_offset",
)
FEATURES = (
    BASE_FEATURES
    + tuple(f"n>={b}" for b in N_BINS)
    + tuple(f"right_streak={k}" for k in range(1, STREAK_CAP + 1))
    + tuple(f"wrong_streak={k}" for k in range(1, STREAK_CAP + 1))
)
N_FEATURES = len(FEATURES)
#: Features whose weight also varies by domain and by skill (the rest are shared by all skills).
CROSSED = ("bias", "skill_c", "skill_w", "skill_c_fast", "skill_w_fast", "same_skill", "ability")
CROSSED_INDEX = tuple(FEATURES.index(name) for name in CROSSED)
_N_BASE = len(BASE_FEATURES)
_STREAK_RIGHT = _N_BASE + len(N_BINS)
_STREAK_WRONG = _STREAK_RIGHT + STREAK_CAP
#: Bin index of n earlier answers on the skill, for n below the last bin's lower bound.
_BIN_OF = tuple(max(i for i, b in enumerate(N_BINS) if n >= b) for n in range(N_BINS[-1]))

#: Elo: the pupil's ability moves by ``ELO_K / (1 + ELO_DECAY * answers)`` times the surprise.
ELO_K = 0.4
ELO_DECAY = 0.05
SKILL_K = 0.3
FAST_DECAY = 0.5
RECENT_DECAY = 0.9
FORM_DECAY = 0.8
#: Prior smoothing: a skill's success rate counts as ``PRIOR_STRENGTH`` answers at its domain's rate.
PRIOR_STRENGTH = 20.0
#: Confidence = n / (n + CONFIDENCE_ANSWERS): 0.5 after that many answers on the skill.
CONFIDENCE_ANSWERS = 3
#: Estimates are kept strictly inside (0, 1).
P_FLOOR = 1e-4
P_CEIL = 1.0 - 1e-4

_TAXONOMY_CODE = re.compile(r"^(.+)-[^-]+$")


_DOMAINS: dict[str, str | None] = {}


def domain_of(skill: str) -> str | None:
    """The domain of a skill code: ``C3-MA-NOM-01`` -> ``C3-MA-NOM``; ``None`` for a flat code (``42``)."""
    try:
        return _DOMAINS[skill]
    except KeyError:
        match = _TAXONOMY_CODE.match(skill)
        domain = match.group(1) if match else None
        if len(_DOMAINS) < 100_000:  # bounded: skill codes come from a taxonomy, but stay safe
            _DOMAINS[skill] = domain
        return domain


def sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def logit(p: float) -> float:
    return math.log(p / (1.0 - p))


@dataclass(frozen=True)
class LearnerModel:
    """Fitted weights and priors; ``version`` 0 means Vigie's defaults (``learner_default.json``)."""

    weights: tuple[float, ...]
    global_prior: float = 1.0
    skill_priors: Mapping[str, float] = field(default_factory=dict)
    domain_priors: Mapping[str, float] = field(default_factory=dict)
    skill_weights: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    domain_weights: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    #: Per item: logit of its smoothed success rate minus its skill's prior (harder items < 0).
    item_offsets: Mapping[str, float] = field(default_factory=dict)
    half_life_days: float | None = None
    version: int = 0
    _cache: dict[str, tuple[tuple[float, ...], float]] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.weights) != N_FEATURES:
            raise ValueError(f"a learner model has {N_FEATURES} weights, not {len(self.weights)}")
        for name, table in (("skill", self.skill_weights), ("domain", self.domain_weights)):
            for key, row in table.items():
                if len(row) != len(CROSSED):
                    raise ValueError(f"{name} {key!r}: {len(CROSSED)} crossed weights expected, not {len(row)}")
        if self.half_life_days is not None and self.half_life_days <= 0:
            raise ValueError("half_life_days must be > 0 (or None: evidence decays by answer count only)")

    def prior(self, skill: str) -> float:
        """The skill's difficulty anchor (logit of its smoothed success rate)."""
        value = self.skill_priors.get(skill)
        if value is None:
            domain = domain_of(skill)
            value = self.domain_priors.get(domain, self.global_prior) if domain is not None else self.global_prior
        return value

    def for_skill(self, skill: str) -> tuple[tuple[float, ...], float]:
        """(effective weights = global + domain + skill deviations, prior), computed once per skill."""
        cached = self._cache.get(skill)
        if cached is not None:
            return cached
        effective = list(self.weights)
        domain = domain_of(skill)
        for deviations in (self.domain_weights.get(domain) if domain is not None else None,
                           self.skill_weights.get(skill)):  # fmt: skip
            if deviations is not None:
                for i, value in zip(CROSSED_INDEX, deviations, strict=True):
                    effective[i] += value
        cached = (tuple(effective), self.prior(skill))
        self._cache[skill] = cached
        return cached


#: A fresh (pupil, skill) state, and a fresh pupil state.
def new_skill_state() -> list[Any]:
    return [0.0, 0.0, 0.0, 0.0, 0, 0, 0.0, 0.0]


def new_pupil_state() -> list[Any]:
    return [0.0, 0, 0.0, 0.0, 0.0, 0.0, 0.0, None, None]


class LearnerState:
    """One pupil's learner state (mutable); ``advance`` is the only way it changes."""

    __slots__ = ("domains", "pupil", "skills")

    def __init__(
        self,
        skills: dict[str, list[Any]] | None = None,
        domains: dict[str, list[float]] | None = None,
        pupil: list[Any] | None = None,
    ) -> None:
        self.skills: dict[str, list[Any]] = skills if skills is not None else {}
        self.domains: dict[str, list[float]] = domains if domains is not None else {}
        self.pupil: list[Any] = pupil if pupil is not None else new_pupil_state()

    def to_json(self) -> list[Any]:
        return [self.skills, self.domains, self.pupil]

    @classmethod
    def from_json(cls, doc: list[Any]) -> LearnerState:
        skills, domains, pupil = doc
        return cls(skills, domains, pupil)


def features(
    state: LearnerState, skill: str, prior: float, at: float, half_life_days: float | None, item_offset: float = 0.0
) -> list[float]:
    """The feature vector of an answer on ``skill`` at ``at``, from the pupil's earlier answers only."""
    s = state.skills.get(skill)
    pupil = state.pupil
    x = [0.0] * N_FEATURES
    x[0] = 1.0
    x[1] = prior
    x[18] = item_offset
    if s is not None:
        c, w = s[0], s[1]
        if half_life_days is not None and at > s[7]:
            factor = 0.5 ** ((at - s[7]) / (half_life_days * SECONDS_PER_DAY))
            c, w = c * factor, w * factor
        x[2] = math.log1p(c)
        x[3] = math.log1p(w)
        x[4] = math.log1p(s[2])
        x[5] = math.log1p(s[3])
        x[8] = s[6]
        n, streak = s[4], s[5]
    else:
        n, streak = 0, 0
    x[6] = 1.0 if pupil[7] == skill else 0.0
    x[7] = pupil[0]
    domain = domain_of(skill)
    d = state.domains.get(domain) if domain is not None else None
    if d is not None:
        x[9] = math.log1p(d[0])
        x[10] = math.log1p(d[1])
    x[11] = math.log1p(pupil[5])
    x[12] = math.log1p(pupil[6])
    x[13] = math.log1p(pupil[3])
    x[14] = math.log1p(pupil[4])
    x[15] = pupil[2]
    if pupil[8] is not None:
        x[16 if pupil[8] else 17] = 1.0
    for i in range(len(N_BINS) - 1, -1, -1):
        if n >= N_BINS[i]:
            x[_N_BASE + i] = 1.0
            break
    if streak > 0:
        x[_STREAK_RIGHT + min(streak, STREAK_CAP) - 1] = 1.0
    elif streak < 0:
        x[_STREAK_WRONG + min(-streak, STREAK_CAP) - 1] = 1.0
    return x


def score(x: list[float], weights: tuple[float, ...]) -> float:
    """P(correct) = sigmoid(weights . x), kept inside (P_FLOOR, P_CEIL)."""
    return _clamped(sum(map(operator.mul, x, weights)))


def update(
    state: LearnerState, skill: str, correct: bool, at: float, prior: float, half_life_days: float | None
) -> int:
    """Apply one answer to the state; returns the number of answers on the skill after it."""
    y = 1.0 if correct else 0.0
    s = state.skills.get(skill)
    if s is None:
        s = state.skills[skill] = new_skill_state()
        s[7] = at
    if half_life_days is not None and at > s[7]:
        factor = 0.5 ** ((at - s[7]) / (half_life_days * SECONDS_PER_DAY))
        s[0] *= factor
        s[1] *= factor
    s[0] += y
    s[1] += 1.0 - y
    s[2] = s[2] * FAST_DECAY + y
    s[3] = s[3] * FAST_DECAY + 1.0 - y
    s[4] += 1
    s[5] = (s[5] + 1 if s[5] > 0 else 1) if correct else (s[5] - 1 if s[5] < 0 else -1)
    s[7] = max(at, s[7])
    domain = domain_of(skill)
    if domain is not None:
        d = state.domains.get(domain)
        if d is None:
            d = state.domains[domain] = [0.0, 0.0]
        d[0] += y
        d[1] += 1.0 - y
    pupil = state.pupil
    theta = pupil[0]
    surprise = y - sigmoid(theta + prior)
    s[6] += SKILL_K * (y - sigmoid(theta + s[6] + prior))
    pupil[0] = theta + ELO_K / (1.0 + ELO_DECAY * pupil[1]) * surprise
    pupil[1] += 1
    pupil[2] = FORM_DECAY * pupil[2] + (1.0 - FORM_DECAY) * (y - sigmoid(prior))
    pupil[3] = pupil[3] * RECENT_DECAY + y
    pupil[4] = pupil[4] * RECENT_DECAY + 1.0 - y
    pupil[5] += y
    pupil[6] += 1.0 - y
    pupil[7] = skill
    pupil[8] = bool(correct)
    return int(s[4])


class LearnerStep(NamedTuple):
    """One answer: the prediction it was judged against, the estimate for the skill's next item, evidence."""

    p_before: float
    p_after: float
    answers: int
    confidence: float


def confidence(answers: int) -> float:
    """How much evidence is behind an estimate: 0 with none, 0.5 at ``CONFIDENCE_ANSWERS`` answers."""
    return answers / (answers + CONFIDENCE_ANSWERS)


def logit_of(
    state: LearnerState,
    skill: str,
    weights: tuple[float, ...],
    prior: float,
    at: float,
    half_life_days: float | None,
    item_offset: float = 0.0,
) -> float:
    """``weights . features(...)`` without building the vector: the stream's per-answer path.

    Same arithmetic as ``features`` + ``score`` (``test_learner`` checks they agree); one-hot bins
    are a weight lookup and zero features are skipped.
    """
    log1p = math.log1p
    w = weights
    total: float = w[0] + w[1] * prior
    if item_offset:
        total += w[18] * item_offset
    s = state.skills.get(skill)
    pupil = state.pupil
    if s is not None:
        c, f = s[0], s[1]
        if half_life_days is not None and at > s[7]:
            factor = 0.5 ** ((at - s[7]) / (half_life_days * SECONDS_PER_DAY))
            c, f = c * factor, f * factor
        total += w[2] * log1p(c) + w[3] * log1p(f) + w[4] * log1p(s[2]) + w[5] * log1p(s[3]) + w[8] * s[6]
        n, streak = s[4], s[5]
    else:
        n, streak = 0, 0
    if pupil[7] == skill:
        total += w[6]
    total += w[7] * pupil[0]
    domain = domain_of(skill)
    d = state.domains.get(domain) if domain is not None else None
    if d is not None:
        total += w[9] * log1p(d[0]) + w[10] * log1p(d[1])
    total += (w[11] * log1p(pupil[5]) + w[12] * log1p(pupil[6]) + w[13] * log1p(pupil[3])
              + w[14] * log1p(pupil[4]) + w[15] * pupil[2])  # fmt: skip
    if pupil[8] is not None:
        total += w[16] if pupil[8] else w[17]
    total += w[_N_BASE + _BIN_OF[n] if n < len(_BIN_OF) else _N_BASE + len(N_BINS) - 1]
    if streak > 0:
        total += w[_STREAK_RIGHT + min(streak, STREAK_CAP) - 1]
    elif streak < 0:
        total += w[_STREAK_WRONG + min(-streak, STREAK_CAP) - 1]
    return total


def _clamped(total: float) -> float:
    p = sigmoid(total)
    return P_FLOOR if p < P_FLOOR else P_CEIL if p > P_CEIL else p


def step(
    state: LearnerState, skill: str, correct: bool, at: float, model: LearnerModel, item: str | None = None
) -> LearnerStep:
    """Predict the answer (on ``item``, when known) from earlier ones, apply it, and predict the skill's
    next item (not known yet: no item offset)."""
    weights, prior = model.for_skill(skill)
    hl = model.half_life_days
    offset = model.item_offsets.get(item, 0.0) if item is not None and model.item_offsets else 0.0
    p_before = _clamped(logit_of(state, skill, weights, prior, at, hl, offset))
    answers = update(state, skill, correct, at, prior, hl)
    p_after = _clamped(logit_of(state, skill, weights, prior, at, hl))
    return LearnerStep(p_before, p_after, answers, confidence(answers))


def predict(state: LearnerState, skill: str, at: float, model: LearnerModel) -> float:
    """P(success on the skill's next item) now, without changing the state."""
    weights, prior = model.for_skill(skill)
    return _clamped(logit_of(state, skill, weights, prior, at, model.half_life_days))
