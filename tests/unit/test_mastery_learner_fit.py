"""The learner model's fit on a small real sample (vendored ASSISTments 2015 pupils, bench/data/README.md)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from bench.many_skills import running_rate_baseline
from vigie.cli import app
from vigie.stream.mastery.calibrate import AnswerLog
from vigie.stream.mastery.evaluate import Columns, evaluate, read_answer_log
from vigie.stream.mastery.learner import FEATURES
from vigie.stream.mastery.learner_fit import fit_learner

pytestmark = pytest.mark.unit

SAMPLE = Path(__file__).resolve().parents[2] / "bench" / "data" / "assist2015-sample.csv.gz"


@pytest.fixture(scope="module")
def small_sample():
    """A third of the vendored sample's pupils (keeps the fit to seconds)."""
    answers, is_test = read_answer_log(SAMPLE, Columns(split="split"))
    assert is_test is not None and not answers.timestamps
    pupils = np.unique(answers.students)
    keep = set(pupils[::3].tolist())
    mask = np.fromiter((s in keep for s in answers.students), dtype=bool, count=len(answers))
    return answers.subset(mask), is_test[mask]


def test_the_fit_on_real_answers_beats_the_running_success_rate_and_is_calibrated(small_sample) -> None:
    answers, is_test = small_sample
    learner = evaluate(answers, is_test, model="learner")
    baseline = running_rate_baseline(answers, is_test)
    assert learner.n_skills_fitted == learner.n_skills, "every skill gets a model, however rare"
    assert learner.overall.auc > baseline.auc + 0.03, (learner.overall, baseline)
    assert learner.overall.log_loss < baseline.log_loss
    assert learner.overall.ece < 0.05, learner.reliability()


def test_the_fitted_weights_say_what_a_teacher_expects(small_sample) -> None:
    answers, is_test = small_sample
    model = fit_learner(answers.subset(~is_test), version=3).model
    weights = dict(zip(FEATURES, model.weights, strict=True))
    assert weights["ability"] > 0, "a pupil who succeeds elsewhere is more likely to succeed"
    assert weights["skill_prior"] > 0, "easier skills are answered right more often"
    assert model.version == 3 and len(model.skill_weights) == len(np.unique(answers.skills[~is_test]))


def test_evaluate_reports_both_models_from_a_gzip_log(tmp_path) -> None:
    answers, _ = read_answer_log(SAMPLE, Columns(split="split"))
    keep = set(np.unique(answers.students)[::12].tolist())
    lines = ["student,skill,correct,order,split"]
    with gzip.open(SAMPLE, "rt") as handle:
        next(handle)
        lines += [line.rstrip("\n") for line in handle if line.split(",", 1)[0] in keep]
    path = tmp_path / "small.csv.gz"
    with gzip.open(path, "wt") as handle:
        handle.write("\n".join(lines) + "\n")
    result = CliRunner().invoke(app, ["evaluate", "mastery", "--answers", str(path), "--split-column", "split",
                                      "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(report["models"]) == {"learner", "bkt"} and report["model"] == "learner"
    for scores in report["models"].values():
        assert {"auc", "rmse", "log_loss", "ece", "reliability", "per_skill"} <= set(scores)
        assert sum(r["n"] for r in scores["reliability"]) == scores["n"]


def _log_with_items(pupils: int = 150, seed: int = 5) -> tuple[AnswerLog, np.ndarray]:
    """Two skills of 10 items each, from very easy to very hard: the item says more than the skill."""
    rng = np.random.default_rng(seed)
    difficulty = {f"s{s}-i{i}": -2.0 + 4.0 * i / 9 for s in range(2) for i in range(10)}
    students, skills, items, correct, order = [], [], [], [], []
    for p in range(pupils):
        ability = rng.normal(1.0, 0.7)
        for t in range(20):
            item = f"s{t % 2}-i{rng.integers(10)}"
            students.append(f"p{p}")
            skills.append(item.split("-")[0])
            items.append(item)
            correct.append(int(rng.random() < 1 / (1 + np.exp(difficulty[item] - ability))))
            order.append(float(p * 100 + t))
    log_ = AnswerLog(
        np.array(students, dtype=object),
        np.array(skills, dtype=object),
        np.array(correct, dtype=np.int8),
        np.array(order),
        items=np.array(items, dtype=object),
    )
    is_test = np.array([int(s[1:]) % 5 == 0 for s in students])
    return log_, is_test


def test_item_difficulty_is_used_when_the_log_names_items() -> None:
    with_items, is_test = _log_with_items()
    without = AnswerLog(with_items.students, with_items.skills, with_items.correct, with_items.order)
    a = evaluate(with_items, is_test, model="learner").overall
    b = evaluate(without, is_test, model="learner").overall
    assert a.auc > b.auc + 0.05, (a, b)
    model = fit_learner(with_items.subset(~is_test)).model
    assert model.item_offsets["s0-i0"] > 0 > model.item_offsets["s0-i9"], "easy items up, hard items down"


def test_a_log_of_only_right_answers_is_a_clear_error_not_a_traceback() -> None:
    import numpy as np

    from vigie.core.errors import PermanentError
    from vigie.stream.mastery.calibrate import AnswerLog
    from vigie.stream.mastery.learner_fit import fit_learner

    answers = AnswerLog(
        np.array(["a", "a", "b"], dtype=object),
        np.array(["C3-MA-NOM-01"] * 3, dtype=object),
        np.ones(3, dtype=np.int8),
        np.arange(3, dtype=float),
    )
    with pytest.raises(PermanentError, match="only right"):
        fit_learner(answers)
