"""Next-answer evaluation of mastery on an answer log, through the stream's own state functions.

Calibrate on the training pupils (EM, ``calibrate.py``), then replay each test pupil's answers in
order through ``PupilMastery.advance`` (exactly what the stream's processor calls): the prediction of
an answer is P(correct) from the pupil's earlier answers only. Reports AUC, RMSE and log-loss,
overall and per skill.

An answer log is a CSV with one row per answer: a student column, a skill column (any identifiers),
a correct column (1/0, true/false) and an order column (a number, or an ISO timestamp). Column
names are options; ``split_column`` (values ``train``/``test``) fixes the split, else pupils are
drawn at random (seeded).
"""

from __future__ import annotations

import csv
import gzip
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import numpy as np

from vigie.core.errors import ConfigurationError, InvalidEventError
from vigie.stream.mastery.calibrate import AnswerLog, SkillFit, calibrate
from vigie.stream.mastery.learner import LearnerModel
from vigie.stream.mastery.model import BktParams
from vigie.stream.mastery.state import PupilMastery

_TRUE = {"1", "true", "t", "yes", "y", "1.0"}
_FALSE = {"0", "false", "f", "no", "n", "0.0"}


@dataclass(frozen=True, slots=True)
class Columns:
    student: str = "student"
    skill: str = "skill"
    correct: str = "correct"
    order: str = "order"
    split: str | None = None
    item: str | None = None


def _order_value(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _correct_value(text: str) -> int:
    value = text.strip().lower()
    if value in _TRUE:
        return 1
    if value in _FALSE:
        return 0
    raise InvalidEventError(f"not a correct/incorrect value: {text!r}", field="correct")


def _open_text(path: Path) -> IO[str]:
    """A CSV file, gzip-compressed (``.gz``) or not."""
    if path.suffix == ".gz":
        return gzip.open(path, "rt", newline="", encoding="utf-8")
    return path.open(newline="", encoding="utf-8")


def read_answer_log(path: Path, columns: Columns = Columns()) -> tuple[AnswerLog, np.ndarray | None]:
    """The log and, if ``columns.split`` is set, a boolean array 'is a test row' (``.csv`` or ``.csv.gz``).

    ``AnswerLog.timestamps`` says whether the order column held times (ISO) rather than numbers.
    """
    with _open_text(path) as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        wanted = [columns.student, columns.skill, columns.correct, columns.order]
        if columns.split:
            wanted.append(columns.split)
        if columns.item:
            wanted.append(columns.item)
        missing = [c for c in wanted if c not in header]
        if missing:
            raise ConfigurationError(f"{path}: missing column(s) {missing}; found {header}")
        students, skills, correct, order, test, items = [], [], [], [], [], []
        timestamps = False
        for line, row in enumerate(reader, start=2):
            try:
                correct.append(_correct_value(row[columns.correct]))
                if line == 2:
                    timestamps = not _is_number(row[columns.order])
                order.append(_order_value(row[columns.order]))
            except (ValueError, InvalidEventError) as error:
                raise ConfigurationError(f"{path} line {line}: {error}") from None
            students.append(row[columns.student])
            if columns.item:
                items.append(row[columns.item])
            skills.append(row[columns.skill])
            if columns.split:
                value = row[columns.split].strip().lower()
                if value not in ("train", "test"):
                    raise ConfigurationError(f"{path} line {line}: split must be train or test, not {value!r}")
                test.append(value == "test")
    answers = AnswerLog(
        np.array(students, dtype=object),
        np.array(skills, dtype=object),
        np.array(correct, dtype=np.int8),
        np.array(order, dtype=float),
        timestamps,
        np.array(items, dtype=object) if columns.item else None,
    )
    return answers, (np.array(test, dtype=bool) if columns.split else None)


def split_by_pupil(answers: AnswerLog, test_fraction: float, seed: int) -> np.ndarray:
    """A seeded draw of test pupils: True for the rows of test pupils."""
    pupils = np.unique(answers.students)
    rng = np.random.default_rng(seed)
    n_test = max(1, round(len(pupils) * test_fraction))
    chosen = set(rng.choice(pupils, size=n_test, replace=False).tolist())
    return np.fromiter((s in chosen for s in answers.students), dtype=bool, count=len(answers))


def auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties count half); NaN with a single class."""
    labels = np.asarray(labels, dtype=bool)
    n_pos = int(labels.sum())
    n_neg = len(labels) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = np.asarray(scores)[order]
    ranks = np.empty(len(scores))
    # Average ranks over ties.
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    average = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(average, counts)
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def rmse(labels: np.ndarray, scores: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(labels, float) - scores) ** 2))) if len(labels) else float("nan")


def log_loss(labels: np.ndarray, scores: np.ndarray) -> float:
    if not len(labels):
        return float("nan")
    p = np.clip(scores, 1e-15, 1 - 1e-15)
    y = np.asarray(labels, float)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


#: Equal-width bins of the reliability table and of the expected calibration error.
CALIBRATION_BINS = 10


def reliability(labels: np.ndarray, scores: np.ndarray, bins: int = CALIBRATION_BINS) -> list[dict[str, float]]:
    """Per bin of predicted probability: answers, mean prediction, observed success rate."""
    y = np.asarray(labels, float)
    p = np.asarray(scores, float)
    index = np.minimum((p * bins).astype(int), bins - 1)
    table = []
    for b in range(bins):
        mask = index == b
        n = int(mask.sum())
        if n:
            table.append({"from": b / bins, "to": (b + 1) / bins, "n": n,
                          "predicted": float(p[mask].mean()), "observed": float(y[mask].mean())})  # fmt: skip
    return table


def expected_calibration_error(labels: np.ndarray, scores: np.ndarray, bins: int = CALIBRATION_BINS) -> float:
    """Answer-weighted mean |predicted - observed| over the reliability table's bins."""
    if not len(labels):
        return float("nan")
    return float(sum(r["n"] * abs(r["predicted"] - r["observed"]) for r in reliability(labels, scores, bins))
                 / len(labels))  # fmt: skip


@dataclass(frozen=True, slots=True)
class Scores:
    auc: float
    rmse: float
    log_loss: float
    ece: float
    n: int

    @classmethod
    def of(cls, labels: np.ndarray, predictions: np.ndarray) -> Scores:
        return cls(auc(labels, predictions), rmse(labels, predictions), log_loss(labels, predictions),
                   expected_calibration_error(labels, predictions), len(labels))  # fmt: skip

    def as_dict(self) -> dict[str, float | int | None]:
        clean = {k: (None if isinstance(v, float) and math.isnan(v) else v)
                 for k, v in (("auc", self.auc), ("rmse", self.rmse), ("log_loss", self.log_loss),
                              ("ece", self.ece))}  # fmt: skip
        return clean | {"n": self.n}


MODELS = ("learner", "bkt")


@dataclass
class Evaluation:
    model: str
    overall: Scores
    per_skill: dict[str, Scores]
    n_train: int
    n_test: int
    n_train_pupils: int
    n_test_pupils: int
    n_skills: int
    n_skills_fitted: int
    predictions: np.ndarray = field(repr=False)
    labels: np.ndarray = field(repr=False)
    skills: np.ndarray = field(repr=False)

    def reliability(self) -> list[dict[str, float]]:
        return reliability(self.labels, self.predictions)

    def as_json(self) -> dict[str, Any]:
        return self.overall.as_dict() | {
            "model": self.model,
            "n_train": self.n_train,
            "n_test": self.n_test,
            "n_train_pupils": self.n_train_pupils,
            "n_test_pupils": self.n_test_pupils,
            "n_skills": self.n_skills,
            "n_skills_calibrated": self.n_skills_fitted,
            "reliability": self.reliability(),
            "per_skill": {k: v.as_dict() for k, v in sorted(self.per_skill.items())},
        }


def replay(answers: AnswerLog, fits: dict[str, SkillFit], default: BktParams) -> tuple[np.ndarray, list[PupilMastery]]:
    """BKT's P(correct) of every answer from the pupil's earlier answers, in the log's order."""
    predictions = np.empty(len(answers))
    states: dict[str, PupilMastery] = {}
    for i in range(len(answers)):
        pupil, skill = answers.students[i], answers.skills[i]
        state = states.get(pupil)
        if state is None:
            state = states[pupil] = PupilMastery()
        fit = fits.get(skill)
        params = fit.params if fit is not None else default
        outcome = state.advance(str(i), skill, bool(answers.correct[i]), float(answers.order[i]), params)
        predictions[i] = outcome.p_correct if outcome is not None else math.nan  # ids are unique: never None
    return predictions, list(states.values())


def replay_learner(answers: AnswerLog, model: LearnerModel) -> tuple[np.ndarray, list[PupilMastery]]:
    """The learner model's P(correct) of every answer, through ``PupilMastery.advance_learner`` (the stream's)."""
    predictions = np.empty(len(answers))
    states: dict[str, PupilMastery] = {}
    students, skills, correct, order = (answers.students.tolist(), answers.skills.tolist(),
                                        answers.correct.tolist(), answers.order.tolist())  # fmt: skip
    items = answers.items.tolist() if answers.items is not None else [None] * len(students)
    for i, (pupil, skill, y, at, item) in enumerate(zip(students, skills, correct, order, items, strict=True)):
        state = states.get(pupil)
        if state is None:
            state = states[pupil] = PupilMastery()
        outcome = state.advance_learner(str(i), str(skill), bool(y), at, model, item)
        predictions[i] = outcome.p_correct if outcome is not None else math.nan  # ids are unique: never None
    return predictions, list(states.values())


#: Half-life of evidence when the log has timestamps (the learner model then decays counts by time).
TIMESTAMP_HALF_LIFE_DAYS = 30.0


def _score(model: str, train: AnswerLog, test: AnswerLog, predictions: np.ndarray, fitted: int) -> Evaluation:
    labels = test.correct.astype(bool)
    per_skill = {str(s): Scores.of(labels[test.skills == s], predictions[test.skills == s])
                 for s in np.unique(test.skills)}  # fmt: skip
    n_skills = len(np.unique(np.concatenate((train.skills, test.skills))))
    return Evaluation(model, Scores.of(labels, predictions), per_skill, len(train), len(test),
                      len(np.unique(train.students)), len(np.unique(test.students)), n_skills, fitted,
                      predictions, labels, test.skills)  # fmt: skip


def evaluate(
    answers: AnswerLog,
    is_test: np.ndarray,
    *,
    model: str = "bkt",
    min_answers: int | None = None,
    min_pupils: int | None = None,
    c: float | None = None,
) -> Evaluation:
    """Fit ``model`` (``learner`` or ``bkt``) on the training pupils, replay the test pupils."""
    from vigie.stream.mastery import calibrate as cal
    from vigie.stream.mastery.model import DEFAULT_PARAMS

    train = answers.subset(~is_test)
    test = answers.subset(is_test).in_order()
    if len(train) == 0 or len(test) == 0:
        raise ConfigurationError("the split leaves no training or no test answers")
    if model == "learner":
        from vigie.stream.mastery.learner_fit import DEFAULT_C, fit_learner

        half_life = TIMESTAMP_HALF_LIFE_DAYS if answers.timestamps else None
        fitted = fit_learner(train, half_life_days=half_life, c=DEFAULT_C if c is None else c)
        predictions, _ = replay_learner(test, fitted.model)
        return _score(model, train, test, predictions, fitted.n_skills)
    if model != "bkt":
        raise ConfigurationError(f"unknown mastery model {model!r} (expected one of {MODELS})")
    fits = calibrate(train, min_answers=cal.MIN_ANSWERS if min_answers is None else min_answers,
                     min_pupils=cal.MIN_PUPILS if min_pupils is None else min_pupils)  # fmt: skip
    predictions, _ = replay(test, fits, DEFAULT_PARAMS)
    return _score(model, train, test, predictions, sum(f.calibrated for f in fits.values()))


def write_answer_log(path: Path, rows: Iterable[tuple[str, str, int, float | str, str]]) -> int:
    """Write (student, skill, correct, order, split) rows with the default column names."""
    count = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "skill", "correct", "order", "split"])
        for row in rows:
            writer.writerow(row)
            count += 1
    return count
