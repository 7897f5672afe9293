"""Stream commands: run a faust worker, calibrate mastery, evaluate mastery on an answer log."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import typer

app = typer.Typer(help="faust processors: mastery and dropout signals.", no_args_is_help=True)
log = logging.getLogger(__name__)


@app.command("worker")
def worker(loglevel: str = typer.Option("warning", help="faust's log level.")) -> None:
    """Run a stream worker (scale out by starting more: they share the partitions)."""
    from vigie.settings import VigieSettings
    from vigie.stream.worker import run_worker

    run_worker(VigieSettings(), loglevel=loglevel)


def _warehouse_answers(settings):
    """Every stored answer (deduplicated) as an AnswerLog; the warehouse feeds calibration back."""
    import numpy as np

    from vigie.stream.mastery.calibrate import AnswerLog
    from vigie.warehouse.client import connect

    client = connect(settings)
    rows = client.query(
        f"SELECT student_id, skill_code, toUInt8(correct), toUnixTimestamp64Milli(occurred_at) "
        f"FROM {settings.warehouse.database}.answers FINAL"
    ).result_rows
    students, skills, correct, order = zip(*rows, strict=True) if rows else ((), (), (), ())
    return AnswerLog(np.array(students, dtype=object), np.array(skills, dtype=object),
                     np.array(correct, dtype=np.int8), np.array(order, dtype=float) / 1000.0)  # fmt: skip


def calibrate_command(
    csv_path: Path | None = typer.Option(None, "--csv", exists=True, dir_okay=False,
                                         help="Answer log CSV; default: the warehouse's answers table."),
    student_column: str = typer.Option("student", help="CSV column of the pupil."),
    skill_column: str = typer.Option("skill", help="CSV column of the skill."),
    correct_column: str = typer.Option("correct", help="CSV column of correctness (1/0, true/false)."),
    order_column: str = typer.Option("order", help="CSV column giving the order (number or ISO time)."),
    half_life_days: float | None = typer.Option(None, min=0.01, help="Forgetting half-life for every skill."),
    min_answers: int = typer.Option(200, min=1, help="Fewer answers: the skill keeps the defaults."),
    min_pupils: int = typer.Option(20, min=1, help="Fewer pupils: the skill keeps the defaults."),
    version: int | None = typer.Option(None, min=1, help="params_version (default: the current Unix time)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the parameters, publish nothing."),
) -> None:
    """Fit per-skill BKT parameters by EM and publish them to the skill-parameters topic."""
    import time
    from datetime import UTC, datetime

    from rich.console import Console
    from rich.table import Table

    from vigie.settings import VigieSettings
    from vigie.stream.mastery.calibrate import calibrate
    from vigie.stream.mastery.evaluate import Columns, read_answer_log
    from vigie.stream.mastery.params import publish, to_contract

    settings = VigieSettings()
    if csv_path is not None:
        answers, _ = read_answer_log(csv_path, Columns(student_column, skill_column, correct_column, order_column))
    else:
        answers = _warehouse_answers(settings)
    version = version or int(time.time())
    fits = calibrate(answers, version=version, half_life_days=half_life_days,
                     min_answers=min_answers, min_pupils=min_pupils)  # fmt: skip
    table = Table("skill", "answers", "pupils", "p_init", "p_learn", "p_guess", "p_slip", "fitted")
    for fit in fits.values():
        p = fit.params
        table.add_row(fit.skill, str(fit.n_answers), str(fit.n_pupils), f"{p.p_init:.3f}", f"{p.p_learn:.3f}",
                      f"{p.p_guess:.3f}", f"{p.p_slip:.3f}", "yes" if fit.calibrated else "defaults")  # fmt: skip
    console = Console(stderr=True)
    console.print(table)
    fitted_at = datetime.now(UTC)
    calibrated = [to_contract(f.skill, f.params, f.n_answers, fitted_at) for f in fits.values() if f.calibrated]
    if dry_run:
        console.print(f"{len(calibrated)} skills calibrated of {len(fits)} (dry run: nothing published)")
        return
    from vigie.infra.topics import ensure_topics

    ensure_topics(settings.kafka)
    sent = publish(settings.kafka, calibrated)
    console.print(f"published {sent} skill parameters (version {version}); {len(fits) - sent} skills keep defaults")


def evaluate_mastery_command(
    answers_path: Path = typer.Option(..., "--answers", exists=True, dir_okay=False, help="Answer log CSV."),
    student_column: str = typer.Option("student", help="Column of the pupil."),
    skill_column: str = typer.Option("skill", help="Column of the skill (any identifier)."),
    correct_column: str = typer.Option("correct", help="Column of correctness (1/0, true/false)."),
    order_column: str = typer.Option("order", help="Column giving the order (number or ISO time)."),
    split_column: str | None = typer.Option(None, help="Column with train/test; else pupils are drawn."),
    test_fraction: float = typer.Option(0.2, min=0.01, max=0.99, help="Share of test pupils when drawn."),
    seed: int = typer.Option(42, help="Seed of the pupil draw."),
    min_answers: int = typer.Option(200, min=1, help="Calibration: fewer answers keep the defaults."),
    min_pupils: int = typer.Option(20, min=1, help="Calibration: fewer pupils keep the defaults."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Next-answer AUC, RMSE and log-loss of mastery on an answer log (calibrate on train, replay test)."""
    from vigie.stream.mastery.evaluate import Columns, evaluate, read_answer_log, split_by_pupil

    columns = Columns(student_column, skill_column, correct_column, order_column, split_column)
    answers, is_test = read_answer_log(answers_path, columns)
    if is_test is None:
        is_test = split_by_pupil(answers, test_fraction, seed)
    result = evaluate(answers, is_test, min_answers=min_answers, min_pupils=min_pupils)
    if as_json:
        typer.echo(json.dumps(result.as_json()))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("skill", "answers", "AUC", "RMSE", "log-loss", title="Next-answer prediction (test pupils)")

    def fmt(value: float) -> str:
        return "-" if value != value else f"{value:.4f}"

    for skill, scores in sorted(result.per_skill.items()):
        table.add_row(skill, str(scores.n), fmt(scores.auc), fmt(scores.rmse), fmt(scores.log_loss))
    o = result.overall
    table.add_row("[b]all[/b]", str(o.n), fmt(o.auc), fmt(o.rmse), fmt(o.log_loss))
    Console().print(table)
    typer.echo(f"train: {result.n_train} answers of {result.n_train_pupils} pupils; "
               f"test: {result.n_test} answers of {result.n_test_pupils} pupils")  # fmt: skip
