"""Per-skill BKT parameters fitted by EM (Baum-Welch) on the answer history, vectorised with numpy.

For one skill, every pupil's answers in time order form one sequence of a 2-state HMM (unknown,
known) with no forgetting inside the fit. The sequences are padded into one (pupils x steps)
matrix; the forward-backward pass loops over steps and is vectorised over pupils. Padding steps
emit with probability 1, and are masked out of the sufficient statistics.

Skills with too little data keep ``DEFAULT_PARAMS`` (see ``model.py``): fewer than
``min_answers`` answers or ``min_pupils`` pupils.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from vigie.stream.mastery.model import DEFAULT_PARAMS, BktParams

log = logging.getLogger(__name__)

MIN_ANSWERS = 200
MIN_PUPILS = 20
#: Guess and slip stay below this: above it the two states swap meaning (a "known" state that errs).
MAX_GUESS = 0.40
MAX_SLIP = 0.40
_EPS = 1e-6


@dataclass(frozen=True, slots=True)
class AnswerLog:
    """Answers as parallel arrays: pupil and skill as strings, correct as 0/1, order as a sortable number."""

    students: np.ndarray
    skills: np.ndarray
    correct: np.ndarray
    order: np.ndarray
    #: True when ``order`` holds epoch seconds (the log had timestamps), False for a plain order.
    timestamps: bool = False
    #: The item of each answer, when the log has an item column (the learner model uses its difficulty).
    items: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.correct)

    def subset(self, mask: np.ndarray) -> AnswerLog:
        items = self.items[mask] if self.items is not None else None
        return AnswerLog(self.students[mask], self.skills[mask], self.correct[mask], self.order[mask],
                         self.timestamps, items)  # fmt: skip

    def in_order(self) -> AnswerLog:
        """Sorted by (student, order), stable: each pupil's answers in time order."""
        idx = np.lexsort((self.order, self.students))
        items = self.items[idx] if self.items is not None else None
        return AnswerLog(self.students[idx], self.skills[idx], self.correct[idx], self.order[idx], self.timestamps,
                         items)  # fmt: skip


@dataclass(frozen=True, slots=True)
class SkillFit:
    skill: str
    params: BktParams
    n_answers: int
    n_pupils: int
    iterations: int
    log_likelihood: float
    calibrated: bool


def sequences_by_skill(log_: AnswerLog) -> Iterator[tuple[str, list[np.ndarray]]]:
    """(skill, one 0/1 array per pupil in time order) for every skill of the log."""
    idx = np.lexsort((log_.order, log_.students, log_.skills))
    skills, students, correct = log_.skills[idx], log_.students[idx], log_.correct[idx].astype(np.int8)
    if len(idx) == 0:
        return
    boundaries = np.flatnonzero((skills[1:] != skills[:-1]) | (students[1:] != students[:-1])) + 1
    starts = np.concatenate(([0], boundaries))
    ends = np.concatenate((boundaries, [len(idx)]))
    current = skills[0]
    seqs: list[Any] = []
    for start, end in zip(starts, ends, strict=True):
        if skills[start] != current:
            yield str(current), seqs
            current, seqs = skills[start], []
        seqs.append(correct[start:end])
    yield str(current), seqs


def _pad(sequences: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.array([len(s) for s in sequences])
    obs = np.zeros((len(sequences), lengths.max()), dtype=np.int8)
    mask = np.arange(lengths.max())[None, :] < lengths[:, None]
    obs[mask] = np.concatenate(sequences)
    return obs, mask


def fit_sequences(
    sequences: list[np.ndarray], start: BktParams = DEFAULT_PARAMS, *, max_iter: int = 200, tol: float = 1e-6
) -> tuple[BktParams, int, float]:
    """Baum-Welch on one skill's sequences; returns (params, iterations, log-likelihood)."""
    obs, mask = _pad(sequences)
    n, t_max = obs.shape
    maskf = mask.astype(float)
    p_init, learn, guess, slip = start.p_init, start.p_learn, start.p_guess, start.p_slip
    previous = -np.inf
    loglik = -np.inf
    iteration = 0
    for iteration in range(1, max_iter + 1):  # noqa: B007 (the count is returned)
        # Emission probabilities per step: columns (unknown, known); padding emits 1.
        e_unknown = np.where(obs == 1, guess, 1.0 - guess)
        e_known = np.where(obs == 1, 1.0 - slip, slip)
        e_unknown = np.where(mask, e_unknown, 1.0)
        e_known = np.where(mask, e_known, 1.0)
        alpha = np.empty((n, t_max, 2))
        scale = np.empty((n, t_max))
        a0 = np.stack(((1.0 - p_init) * e_unknown[:, 0], p_init * e_known[:, 0]), axis=1)
        scale[:, 0] = a0.sum(axis=1)
        alpha[:, 0] = a0 / scale[:, 0:1]
        for t in range(1, t_max):
            prev = alpha[:, t - 1]
            unknown = prev[:, 0] * (1.0 - learn) * e_unknown[:, t]
            known = (prev[:, 1] + prev[:, 0] * learn) * e_known[:, t]
            s = unknown + known
            scale[:, t] = s
            alpha[:, t, 0] = unknown / s
            alpha[:, t, 1] = known / s
        beta = np.ones((n, t_max, 2))
        for t in range(t_max - 2, -1, -1):
            b_unknown = beta[:, t + 1, 0] * e_unknown[:, t + 1]
            b_known = beta[:, t + 1, 1] * e_known[:, t + 1]
            beta[:, t, 0] = ((1.0 - learn) * b_unknown + learn * b_known) / scale[:, t + 1]
            beta[:, t, 1] = b_known / scale[:, t + 1]
        gamma = alpha * beta
        gamma /= gamma.sum(axis=2, keepdims=True)
        # Expected unknown -> known transitions between steps t and t+1 (both real answers).
        xi = (alpha[:, :-1, 0] * learn * e_known[:, 1:] * beta[:, 1:, 1]) / scale[:, 1:]
        xi *= maskf[:, 1:]
        loglik = float(np.log(scale).sum())
        g_unknown = gamma[:, :, 0] * maskf
        g_known = gamma[:, :, 1] * maskf
        correct = obs * maskf
        p_init = float(gamma[:, 0, 1].mean())
        from_unknown = (g_unknown[:, :-1] * maskf[:, 1:]).sum()
        learn = float(xi.sum() / from_unknown) if from_unknown > 0 else learn
        guess = float((g_unknown * correct).sum() / max(g_unknown.sum(), _EPS))
        slip = float((g_known * (maskf - correct)).sum() / max(g_known.sum(), _EPS))
        p_init = min(max(p_init, _EPS), 1 - _EPS)
        learn = min(max(learn, _EPS), 1 - _EPS)
        guess = min(max(guess, _EPS), MAX_GUESS)
        slip = min(max(slip, _EPS), MAX_SLIP)
        if abs(loglik - previous) < tol * max(1.0, abs(loglik)):
            break
        previous = loglik
    return BktParams(p_init, learn, guess, slip, start.half_life_days, start.version), iteration, loglik


def calibrate(
    answers: AnswerLog,
    *,
    version: int = 1,
    half_life_days: float | None = None,
    min_answers: int = MIN_ANSWERS,
    min_pupils: int = MIN_PUPILS,
    default: BktParams = DEFAULT_PARAMS,
) -> dict[str, SkillFit]:
    """Fit every skill of the log; skills below the data thresholds keep ``default``."""
    fits: dict[str, SkillFit] = {}
    base = replace(default, half_life_days=half_life_days, version=version)
    for skill, sequences in sequences_by_skill(answers):
        n_answers = int(sum(len(s) for s in sequences))
        if n_answers < min_answers or len(sequences) < min_pupils:
            fits[skill] = SkillFit(skill, base, n_answers, len(sequences), 0, float("nan"), calibrated=False)
            continue
        params, iterations, loglik = fit_sequences(sequences, base)
        fits[skill] = SkillFit(skill, params, n_answers, len(sequences), iterations, loglik, calibrated=True)
        log.debug("skill %s: %s after %d iterations", skill, params, iterations)
    return fits
