"""Stream commands: run a faust worker, evaluate mastery on an answer log."""

from __future__ import annotations

import json
import logging
from enum import StrEnum
from pathlib import Path

import typer

from vigie.core.cli_options import REPORT_FORMAT_HELP, ReportFormat, renamed, take_renamed


class MasteryModel(StrEnum):
    """``--model`` of ``calibrate``: the model fitted and published."""

    learner = "learner"
    bkt = "bkt"


class EvaluatedModels(StrEnum):
    """``--model`` of ``evaluate mastery``: one model, or both side by side."""

    learner = "learner"
    bkt = "bkt"
    both = "both"


app = typer.Typer(help="faust processors: mastery and dropout signals.", no_args_is_help=True)
log = logging.getLogger(__name__)


@app.command("worker")
def worker(
    log_level: str = typer.Option("warning", "--log-level", help="faust's log level (Vigie's: vigie --log-level)."),
    old_loglevel: str | None = renamed("--loglevel", "--log-level"),
) -> None:
    """Run a stream worker (scale out by starting more: they share the partitions)."""
    from vigie.core.settings import load_settings
    from vigie.stream.worker import run_worker

    run_worker(load_settings(), loglevel=take_renamed(old_loglevel, log_level, "--loglevel", "--log-level"))


def evaluate_mastery_command(
    answers_path: Path = typer.Option(
        ..., "--answers", exists=True, dir_okay=False, help="Answer log CSV (.csv or .csv.gz)."
    ),
    student_column: str = typer.Option("student", help="Column of the pupil."),
    skill_column: str = typer.Option("skill", help="Column of the skill (any identifier)."),
    correct_column: str = typer.Option("correct", help="Column of correctness (1/0, true/false)."),
    order_column: str = typer.Option("order", help="Column giving the order (number or ISO time)."),
    split_column: str | None = typer.Option(None, help="Column with train/test; else pupils are drawn."),
    item_column: str | None = typer.Option(
        None, help="Column of the item: the learner model then uses each item's difficulty."
    ),
    test_fraction: float = typer.Option(0.2, min=0.01, max=0.99, help="Share of test pupils when drawn."),
    seed: int = typer.Option(42, help="Seed of the pupil draw."),
    model: EvaluatedModels = typer.Option(EvaluatedModels.both, help="learner, bkt, or both (side by side)."),
    min_answers: int = typer.Option(200, min=1, help="BKT calibration: fewer answers keep the defaults."),
    min_pupils: int = typer.Option(20, min=1, help="BKT calibration: fewer pupils keep the defaults."),
    per_skill: bool = typer.Option(False, "--per-skill", help="Also print every skill's scores."),
    fmt: ReportFormat = typer.Option(ReportFormat.table, "--format", help=REPORT_FORMAT_HELP),
    as_json: bool = typer.Option(False, "--json", hidden=True, help="Same as --format json (kept for scripts)."),
) -> None:
    """Next-answer AUC, RMSE, log-loss and calibration of mastery on an answer log (fit on train, replay test).

    Both models run through the stream's own state update. The JSON's top-level scores are the
    first model's (the learner's with `--model both`); `models` holds each model's report.
    """
    from vigie.stream.mastery.evaluate import MODELS, Columns, evaluate, read_answer_log, split_by_pupil

    names = MODELS if model is EvaluatedModels.both else (model.value,)
    columns = Columns(student_column, skill_column, correct_column, order_column, split_column, item_column)
    answers, is_test = read_answer_log(answers_path, columns)
    if is_test is None:
        is_test = split_by_pupil(answers, test_fraction, seed)
    results = {name: evaluate(answers, is_test, model=name, min_answers=min_answers, min_pupils=min_pupils)
               for name in names}  # fmt: skip
    if as_json or fmt is ReportFormat.json:
        first = results[names[0]].as_json()
        typer.echo(json.dumps(first | {"models": {name: r.as_json() for name, r in results.items()}}))
        return
    from rich.console import Console
    from rich.table import Table

    def cell(value: float) -> str:
        return "-" if value != value else f"{value:.4f}"

    console = Console()
    if per_skill:
        table = Table("skill", "answers", *(f"AUC {n}" for n in names), *(f"ECE {n}" for n in names),
                      title="Next-answer prediction per skill (test pupils)")  # fmt: skip
        leading = results[names[0]]
        for skill in sorted(leading.per_skill):
            scores = [results[n].per_skill[skill] for n in names]
            table.add_row(skill, str(scores[0].n), *(cell(s.auc) for s in scores), *(cell(s.ece) for s in scores))
        console.print(table)
    table = Table("model", "answers", "AUC", "RMSE", "log-loss", "ECE", "skills fitted",
                  title="Next-answer prediction (test pupils)")  # fmt: skip
    for name, result in results.items():
        o = result.overall
        table.add_row(name, str(o.n), cell(o.auc), cell(o.rmse), cell(o.log_loss), cell(o.ece),
                      f"{result.n_skills_fitted}/{result.n_skills}")  # fmt: skip
    console.print(table)
    reliability = Table("predicted", *(f"{n}: answers / mean p / observed" for n in names),
                        title="Reliability (bins of predicted P(correct))")  # fmt: skip
    tables = {n: {round(r["from"], 1): r for r in results[n].reliability()} for n in names}
    for b in range(10):
        low = round(b / 10, 1)
        cells = []
        for n in names:
            r = tables[n].get(low)
            cells.append("-" if r is None else f"{r['n']} / {r['predicted']:.3f} / {r['observed']:.3f}")
        reliability.add_row(f"{low:.1f}-{low + 0.1:.1f}", *cells)
    console.print(reliability)
    any_result = results[names[0]]
    typer.echo(f"train: {any_result.n_train} answers of {any_result.n_train_pupils} pupils; "
               f"test: {any_result.n_test} answers of {any_result.n_test_pupils} pupils")  # fmt: skip
