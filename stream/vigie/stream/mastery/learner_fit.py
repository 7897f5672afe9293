"""Fit the learner model's weights offline: replay the log through ``learner.step``'s own feature
code, then one L2-penalised logistic regression (scikit-learn) over global, per-domain and per-skill
columns.

The per-domain and per-skill columns are the ``CROSSED`` features repeated for one domain / skill
(zero elsewhere): their weights are deviations from the global ones, and the L2 penalty shrinks a
rarely answered skill towards its domain and the global model. No skill is left out for having few
answers, so a log with thousands of fine-grained skills still gets a model for each.

The features of an answer depend on the priors (the Elo anchor) but not on the weights, so one pass
computes every row, and the fit is a single convex problem.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from vigie.core.errors import PermanentError
from vigie.stream.mastery.calibrate import AnswerLog
from vigie.stream.mastery.learner import (
    CROSSED,
    CROSSED_INDEX,
    FEATURES,
    N_FEATURES,
    PRIOR_STRENGTH,
    LearnerModel,
    LearnerState,
    domain_of,
    features,
    logit,
    update,
)

log = logging.getLogger(__name__)

#: Inverse L2 strength of scikit-learn's LogisticRegression (chosen on a split of ASSISTments
#: 2015's training pupils and on the simulator: 0.1 and 1.0 gave the same AUC to 4 decimals).
DEFAULT_C = 1.0
_RATE_EPS = 1e-3


def _shrunk_logit(correct: float, n: float, toward: float) -> float:
    rate = (correct + PRIOR_STRENGTH * toward) / (n + PRIOR_STRENGTH)
    return logit(min(max(rate, _RATE_EPS), 1.0 - _RATE_EPS))


def priors(answers: AnswerLog) -> tuple[float, dict[str, float], dict[str, float]]:
    """(global, per-domain, per-skill) logit success rates, each shrunk to the level above."""
    total = float(answers.correct.mean()) if len(answers) else 0.7
    by_skill: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for skill, y in zip(answers.skills.tolist(), answers.correct.tolist(), strict=True):
        counts = by_skill[str(skill)]
        counts[0] += y
        counts[1] += 1
    by_domain: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for skill, (c, n) in by_skill.items():
        domain = domain_of(skill)
        if domain is not None:
            by_domain[domain][0] += c
            by_domain[domain][1] += n
    domain_rates = {d: (c + PRIOR_STRENGTH * total) / (n + PRIOR_STRENGTH) for d, (c, n) in by_domain.items()}
    domain_priors = {d: logit(min(max(r, _RATE_EPS), 1 - _RATE_EPS)) for d, r in domain_rates.items()}
    skill_priors = {}
    for skill, (c, n) in by_skill.items():
        domain = domain_of(skill)
        toward = domain_rates.get(domain, total) if domain is not None else total
        skill_priors[skill] = _shrunk_logit(c, n, toward)
    return logit(min(max(total, _RATE_EPS), 1 - _RATE_EPS)), domain_priors, skill_priors


def item_offsets(answers: AnswerLog, skill_priors: dict[str, float]) -> tuple[dict[str, float], np.ndarray]:
    """Per item, the logit of its smoothed success rate minus its skill's prior; and per row, the same
    computed without that row's own answer (leave-one-out: a training row must not see its label)."""
    if answers.items is None:
        return {}, np.zeros(len(answers))
    counts: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    keys = [(str(s), str(i)) for s, i in zip(answers.skills.tolist(), answers.items.tolist(), strict=True)]
    labels = answers.correct.tolist()
    for key, y in zip(keys, labels, strict=True):
        counts[key][0] += y
        counts[key][1] += 1

    def offset(skill: str, c: float, n: float) -> float:
        prior = skill_priors[skill]
        return _shrunk_logit(c, n, 1.0 / (1.0 + math.exp(-prior))) - prior

    per_item = {item: round(offset(skill, c, n), 6) for (skill, item), (c, n) in counts.items()}
    rows = np.fromiter((offset(k[0], counts[k][0] - y, counts[k][1] - 1) for k, y in zip(keys, labels, strict=True)),
                       dtype=float, count=len(keys))  # fmt: skip
    return per_item, rows


def feature_rows(answers: AnswerLog, model: LearnerModel, offsets: np.ndarray | None = None) -> np.ndarray:
    """Every answer's feature vector (rows in the log's order; the log must be in (student, order))."""
    rows: list[list[float]] = []
    states: dict[str, LearnerState] = {}
    hl = model.half_life_days
    students, skills, correct, order = (answers.students.tolist(), answers.skills.tolist(),
                                        answers.correct.tolist(), answers.order.tolist())  # fmt: skip
    row_offsets = offsets.tolist() if offsets is not None else [0.0] * len(students)
    for pupil, skill, y, at, item_offset in zip(students, skills, correct, order, row_offsets, strict=True):
        state = states.get(pupil)
        if state is None:
            state = states[pupil] = LearnerState()
        skill = str(skill)
        prior = model.prior(skill)
        rows.append(features(state, skill, prior, at, hl, item_offset))
        update(state, skill, bool(y), at, prior, hl)
    return np.asarray(rows, dtype=float).reshape(len(rows), N_FEATURES)


@dataclass(frozen=True)
class LearnerFit:
    model: LearnerModel
    n_answers: int
    n_skills: int
    n_domains: int


def fit_learner(
    answers: AnswerLog,
    *,
    version: int = 1,
    half_life_days: float | None = None,
    c: float = DEFAULT_C,
    max_iter: int = 2000,
) -> LearnerFit:
    """Fit the learner model on a log (any order: sorted here by student, then order)."""
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    answers = answers.in_order()
    if len(answers) == 0:
        raise PermanentError("no answers to fit the learner model on")
    global_prior, domain_priors, skill_priors = priors(answers)
    anchor = LearnerModel((0.0,) * N_FEATURES, global_prior, skill_priors, domain_priors, half_life_days=half_life_days)
    per_item, row_offsets = item_offsets(answers, skill_priors)
    x = feature_rows(answers, anchor, row_offsets)
    y = answers.correct.astype(int)
    skills = [str(s) for s in answers.skills.tolist()]
    skill_names = sorted(set(skills))
    domain_names = sorted({d for d in map(domain_of, skill_names) if d is not None})
    skill_index = {s: i for i, s in enumerate(skill_names)}
    domain_index = {d: i for i, d in enumerate(domain_names)}
    k = len(CROSSED)
    n = len(skills)
    crossed = x[:, list(CROSSED_INDEX)]
    blocks = [sparse.csr_matrix(x)]
    skill_col = np.fromiter((skill_index[s] for s in skills), dtype=np.int64, count=n)
    blocks.append(_crossed_block(crossed, skill_col, len(skill_names), k))
    if domain_names:
        domains = [domain_of(s) for s in skills]
        domain_col = np.fromiter((domain_index[d] if d is not None else -1 for d in domains), dtype=np.int64, count=n)
        blocks.append(_crossed_block(crossed, domain_col, len(domain_names), k))
    design = sparse.hstack(blocks).tocsr()
    if len(np.unique(y)) < 2:
        raise PermanentError("the log has only right (or only wrong) answers: nothing to fit")
    regression = LogisticRegression(C=c, max_iter=max_iter, fit_intercept=False)
    regression.fit(design, y)
    coef = regression.coef_[0]
    weights = tuple(float(v) for v in coef[:N_FEATURES])
    offset = N_FEATURES
    skill_weights = {s: _row(coef, offset + i * k, k) for s, i in skill_index.items()}
    offset += len(skill_names) * k
    domain_weights = {d: _row(coef, offset + i * k, k) for d, i in domain_index.items()}
    model = LearnerModel(weights, global_prior, skill_priors, domain_priors, skill_weights, domain_weights,
                         per_item, half_life_days=half_life_days, version=version)  # fmt: skip
    log.info("learner model fitted on %d answers, %d skills, %d domains", n, len(skill_names), len(domain_names))
    return LearnerFit(model, n, len(skill_names), len(domain_names))


def _crossed_block(crossed: np.ndarray, group: np.ndarray, n_groups: int, k: int) -> Any:
    from scipy import sparse

    keep = group >= 0
    rows = np.repeat(np.flatnonzero(keep), k)
    cols = (group[keep][:, None] * k + np.arange(k)[None, :]).ravel()
    values = crossed[keep].ravel()
    return sparse.csr_matrix((values, (rows, cols)), shape=(crossed.shape[0], n_groups * k))


def _row(coef: np.ndarray, start: int, k: int) -> tuple[float, ...]:
    return tuple(round(float(v), 6) for v in coef[start : start + k])


def describe(model: LearnerModel) -> dict[str, float]:
    """The global weights by feature name (for a person reading a fit)."""
    return {name: round(w, 4) for name, w in zip(FEATURES, model.weights, strict=True) if not math.isnan(w)}
