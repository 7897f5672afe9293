"""Real withdrawal logs in the common format: strict reading, the checkpoint protocol, and the CLI's JSON."""

from __future__ import annotations

import csv
import gzip
import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vigie.core.errors import UsageError
from vigie.stream.signals.real_evaluation import evaluate_real
from vigie.stream.signals.real_logs import feature_rows, read_activity, read_truth

pytestmark = pytest.mark.unit

SAMPLE = Path(__file__).resolve().parents[2] / "bench" / "data" / "oulad"
TRUTH_HEADER = "student,dropped_out,dropout_day,course,start_day,end_day\n"
ACTIVITY_HEADER = "student,day,events,correct,score\n"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_column_unknown_student_and_non_numeric_day_name_the_file_and_line(tmp_path: Path) -> None:
    truth = _write(tmp_path, "t.csv", TRUTH_HEADER + "a,0,,C,0,70\nb,1,30,C,0,70\n")
    with pytest.raises(UsageError, match=r"bad\.csv, line 1: missing column\(s\) score"):
        read_activity(_write(tmp_path, "bad.csv", "student,day,events,correct\na,1,1,1\n"), read_truth(truth), truth)
    with pytest.raises(UsageError, match=r"a\.csv, line 3: student 'zz' is not in .*t\.csv"):
        read_activity(
            _write(tmp_path, "a.csv", ACTIVITY_HEADER + "a,1,1,1,80\nzz,2,1,1,80\n"), read_truth(truth), truth
        )
    with pytest.raises(UsageError, match=r"d\.csv, line 2: day 'monday' is not a number"):
        read_activity(_write(tmp_path, "d.csv", ACTIVITY_HEADER + "a,monday,1,1,80\n"), read_truth(truth), truth)
    with pytest.raises(UsageError, match=r"t2\.csv, line 2: start_day 'x' is not a number"):
        read_truth(_write(tmp_path, "t2.csv", TRUTH_HEADER + "a,0,,C,x,70\n"))


def test_checkpoints_at_risk_set_and_horizon(tmp_path: Path) -> None:
    truth = read_truth(_write(tmp_path, "t.csv", TRUTH_HEADER + "a,0,,C,0,28\nb,1,20,C,0,28\nc,0,,C,0,28\n"))
    activity = read_activity(
        _write(tmp_path, "a.csv", ACTIVITY_HEADER + "a,1,1,1,80\nb,2,1,0,20\nc,15,1,1,90\n"), truth, tmp_path / "t.csv"
    )
    rows = feature_rows(truth, activity, horizon=10)
    seen = list(zip(rows.checkpoint, rows.student, rows.y, strict=True))
    # checkpoints 7, 14, 21, 28; c only from its first activity (day 15); b gone from day 20 on
    assert seen == [
        (7, "a", 0),
        (7, "b", 0),
        (14, "a", 0),
        (14, "b", 1),
        (21, "a", 0),
        (21, "c", 0),
        (28, "a", 0),
        (28, "c", 0),
    ]
    assert rows.lead[3] == 6 and rows.since[3] == 12


def test_a_truth_without_dropout_days_is_judged_once_at_the_end(tmp_path: Path) -> None:
    truth = read_truth(_write(tmp_path, "t.csv", TRUTH_HEADER + "a,0,,C,0,28\nb,1,,C,0,28\n"))
    activity = read_activity(
        _write(tmp_path, "a.csv", ACTIVITY_HEADER + "a,1,1,1,80\nb,2,1,0,20\n"), truth, tmp_path / "t.csv"
    )
    rows = feature_rows(truth, activity, horizon=60)
    assert rows.judged_at_end and rows.checkpoint == [28, 28] and rows.y == [0, 1]


def _small_sample(tmp_path: Path, per_course: int = 250) -> tuple[Path, Path]:
    """The vendored sample's first enrolments of each course (keeps the test to seconds)."""
    with gzip.open(SAMPLE / "truth.csv.gz", "rt", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    kept, counts = [], Counter[str]()
    for row in rows:
        counts[row["course"]] += 1
        if counts[row["course"]] <= per_course:
            kept.append(row)
    students = {row["student"] for row in kept}
    truth, activity = tmp_path / "truth.csv", tmp_path / "activity.csv"
    with truth.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(kept)
    with (
        gzip.open(SAMPLE / "activity.csv.gz", "rt", encoding="utf-8") as handle,
        activity.open("w", encoding="utf-8", newline="") as out,
    ):
        reader = csv.DictReader(handle)
        writer = csv.DictWriter(out, fieldnames=list(reader.fieldnames or []))
        writer.writeheader()
        writer.writerows(row for row in reader if row["student"] in students)
    return activity, truth


def test_the_evaluation_runs_on_real_withdrawals_and_the_cli_prints_the_issue_json(tmp_path: Path) -> None:
    from vigie.cli import app

    activity, truth = _small_sample(tmp_path)
    result = CliRunner().invoke(
        app, ["evaluate", "signals", "--activity", str(activity), "--truth", str(truth), "--json"]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert set(out["vigie"]) >= {"auc", "precision", "recall", "lead_days_median", "checkpoints", "positive_rate"}
    assert set(out["baseline"]) >= {"precision", "recall", "lead_days_median"}
    assert out["vigie"]["auc"] > 0.6, "cross-fitted by course on real withdrawals"
    assert out["vigie"]["checkpoints"] > 10_000 and 0 < out["vigie"]["positive_rate"] < 0.5
    assert out["protocol"]["fitted_on"] == "cross-fit by course"


def test_train_files_are_used_when_given(tmp_path: Path) -> None:
    activity, truth = _small_sample(tmp_path, per_course=120)
    out = evaluate_real(activity, truth, train_activity=activity, train_truth=truth, horizon=30, baseline_days=14)
    assert out["protocol"] == {"horizon_days": 30, "judged_at_end": False, "fitted_on": "train files"}
    assert out["baseline"]["days"] == 14
    assert [row["days"] for row in out["baseline_sweep"]][:2] == [7, 14]
