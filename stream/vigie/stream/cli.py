"""Stream commands: run a faust worker, evaluate mastery on an answer log."""

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
    from vigie.core.settings import load_settings
    from vigie.stream.worker import run_worker

    run_worker(load_settings(), loglevel=loglevel)


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
    typer.echo(
        f"train: {result.n_train} answers of {result.n_train_pupils} pupils; "
        f"test: {result.n_test} answers of {result.n_test_pupils} pupils"
    )
