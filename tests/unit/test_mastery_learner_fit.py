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
