"""Next-answer evaluation of mastery on an answer log, through the stream's own state functions.

Calibrate on the training pupils (EM, ``calibrate.py``), then replay each test pupil's answers in
order through ``PupilState.advance`` (exactly what the stream's processor calls): the prediction of
an answer is P(correct) from the pupil's earlier answers only. Reports AUC, RMSE and log-loss,
overall and per skill.

An answer log is a CSV with one row per answer: a student column, a skill column (any identifiers),
a correct column (1/0, true/false) and an order column (a number, or an ISO timestamp). Column
names are options; ``split_column`` (values ``train``/``test``) fixes the split, else pupils are
drawn at random (seeded).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from vigie.core.errors import ConfigurationError, InvalidEventError
from vigie.stream.mastery.calibrate import AnswerLog, SkillFit, calibrate
from vigie.stream.mastery.model import BktParams
from vigie.stream.mastery.state import PupilState

_TRUE = {"1", "true", "t", "yes", "y", "1.0"}
_FALSE = {"0", "false", "f", "no", "n", "0.0"}


@dataclass(frozen=True, slots=True)
class Columns:
    student: str = "student"
    skill: str = "skill"
    correct: str = "correct"
    order: str = "order"
    split: str | None = None


def _order_value(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _correct_value(text: str) -> int:
    value = text.strip().lower()
    if value in _TRUE:
        return 1
    if value in _FALSE:
        return 0
    raise InvalidEventError(f"not a correct/incorrect value: {text!r}", field="correct")


def read_answer_log(path: Path, columns: Columns = Columns()) -> tuple[AnswerLog, np.ndarray | None]:
    """The log and, if ``columns.split`` is set, a boolean array 'is a test row'."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        wanted = [columns.student, columns.skill, columns.correct, columns.order]
        if columns.split:
            wanted.append(columns.split)
        missing = [c for c in wanted if c not in header]
        if missing:
            raise ConfigurationError(f"{path}: missing column(s) {missing}; found {header}")
        students, skills, correct, order, test = [], [], [], [], []
        for line, row in enumerate(reader, start=2):
            try:
                correct.append(_correct_value(row[columns.correct]))
                order.append(_order_value(row[columns.order]))
            except (ValueError, InvalidEventError) as error:
                raise ConfigurationError(f"{path} line {line}: {error}") from None
            students.append(row[columns.student])
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


@dataclass(frozen=True, slots=True)
class Scores:
    auc: float
    rmse: float
    log_loss: float
    n: int

    @classmethod
    def of(cls, labels: np.ndarray, predictions: np.ndarray) -> Scores:
        return cls(auc(labels, predictions), rmse(labels, predictions), log_loss(labels, predictions), len(labels))

    def as_dict(self) -> dict[str, float | int | None]:
        clean = {
            k: (None if isinstance(v, float) and math.isnan(v) else v)
            for k, v in (("auc", self.auc), ("rmse", self.rmse), ("log_loss", self.log_loss))
        }
        return clean | {"n": self.n}


@dataclass
class Evaluation:
    overall: Scores
    per_skill: dict[str, Scores]
    n_train: int
    n_test: int
    n_train_pupils: int
    n_test_pupils: int
    fits: dict[str, SkillFit] = field(repr=False)
    predictions: np.ndarray = field(repr=False)
    labels: np.ndarray = field(repr=False)

    def as_json(self) -> dict[str, Any]:
        return self.overall.as_dict() | {
            "n_train": self.n_train,
            "n_test": self.n_test,
            "n_train_pupils": self.n_train_pupils,
            "n_test_pupils": self.n_test_pupils,
            "n_skills": len(self.fits),
            "n_skills_calibrated": sum(f.calibrated for f in self.fits.values()),
            "per_skill": {k: v.as_dict() for k, v in sorted(self.per_skill.items())},
        }


def replay(answers: AnswerLog, fits: dict[str, SkillFit], default: BktParams) -> tuple[np.ndarray, list[PupilState]]:
    """P(correct) of every answer from the pupil's earlier answers, in the log's (student, order) order."""
    predictions = np.empty(len(answers))
    states: dict[str, PupilState] = {}
    for i in range(len(answers)):
        pupil, skill = answers.students[i], answers.skills[i]
        state = states.get(pupil)
        if state is None:
            state = states[pupil] = PupilState()
        fit = fits.get(skill)
        params = fit.params if fit is not None else default
        outcome = state.advance(str(i), skill, bool(answers.correct[i]), float(answers.order[i]), params)
        predictions[i] = outcome.p_correct
    return predictions, list(states.values())


def evaluate(
    answers: AnswerLog,
    is_test: np.ndarray,
    *,
    min_answers: int | None = None,
    min_pupils: int | None = None,
) -> Evaluation:
    from vigie.stream.mastery import calibrate as cal
    from vigie.stream.mastery.model import DEFAULT_PARAMS

    train = answers.subset(~is_test)
    test = answers.subset(is_test).in_order()
    if len(train) == 0 or len(test) == 0:
        raise ConfigurationError("the split leaves no training or no test answers")
    fits = calibrate(
        train,
        min_answers=cal.MIN_ANSWERS if min_answers is None else min_answers,
        min_pupils=cal.MIN_PUPILS if min_pupils is None else min_pupils,
    )
    predictions, _ = replay(test, fits, DEFAULT_PARAMS)
    labels = test.correct.astype(bool)
    per_skill = {
        str(s): Scores.of(labels[test.skills == s], predictions[test.skills == s]) for s in np.unique(test.skills)
    }
    n_pupils = len(np.unique(train.students)), len(np.unique(test.students))
    return Evaluation(
        Scores.of(labels, predictions), per_skill, len(train), len(test), *n_pupils, fits, predictions, labels
    )


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
