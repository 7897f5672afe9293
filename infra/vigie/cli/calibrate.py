"""Calibration closes the loop from the warehouse back to the stream: it needs both parts, so it is composed here.

History (the warehouse's deduplicated answers, or a CSV) -> the stream's EM fit -> the skill-parameters topic.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from vigie.core.cli_options import FORMAT_HELP, OutputFormat, check_output, emit_rows, renamed, take_renamed
from vigie.core.settings import VigieSettings, load_settings
from vigie.stream.cli import MasteryModel

if TYPE_CHECKING:  # the stream and warehouse parts are imported when the command runs (fast ``--help``)
    from vigie.stream.mastery.calibrate import AnswerLog


def warehouse_answers(settings: VigieSettings) -> AnswerLog:
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
    return AnswerLog(
        np.array(students, dtype=object),
        np.array(skills, dtype=object),
        np.array(correct, dtype=np.int8),
        np.array(order, dtype=float) / 1000.0,
        timestamps=True,
    )


def calibrate_command(
    answers_path: Path | None = typer.Option(
        None,
        "--answers",
        exists=True,
        dir_okay=False,
        help="Answer log CSV (.csv or .csv.gz); default: the warehouse's answers table.",
    ),
    student_column: str = typer.Option("student", help="CSV column of the pupil."),
    skill_column: str = typer.Option("skill", help="CSV column of the skill."),
    correct_column: str = typer.Option("correct", help="CSV column of correctness (1/0, true/false)."),
    order_column: str = typer.Option("order", help="CSV column giving the order (number or ISO time)."),
    model: MasteryModel = typer.Option(
        MasteryModel.learner, help="learner (the stream's default) or bkt (per-skill EM)."
    ),
    half_life_days: float | None = typer.Option(
        None, min=0.01, help="BKT: forgetting half-life; learner: evidence half-life (default 30 days on timestamps)."
    ),
    min_answers: int = typer.Option(200, min=1, help="Fewer answers: the skill keeps the defaults."),
    min_pupils: int = typer.Option(20, min=1, help="Fewer pupils: the skill keeps the defaults."),
    params_version: int | None = typer.Option(
        None, min=1, help="Version of the published parameters (default: the current Unix time)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the parameters, publish nothing."),
    fmt: OutputFormat = typer.Option(OutputFormat.table, "--format", help=f"The fitted parameters: {FORMAT_HELP}"),
    out: Path | None = typer.Option(None, help="File to write the parameters to instead of stdout."),
    old_csv: Path | None = typer.Option(None, "--csv", exists=True, dir_okay=False, hidden=True),
    old_version: int | None = renamed("--version", "--params-version"),
) -> None:
    """Fit the mastery model (learner by default, or per-skill BKT by EM) and publish it to the skill-parameters topic.

    Running workers pick it up without restart.
    """
    import time
    from datetime import UTC, datetime

    from rich.console import Console

    from vigie.stream.mastery.calibrate import calibrate
    from vigie.stream.mastery.evaluate import Columns, read_answer_log
    from vigie.stream.mastery.params import publish, to_contract

    check_output(fmt, out)  # before the fit: a wrong pair of options costs nothing
    csv_path = take_renamed(old_csv, answers_path, "--csv", "--answers")
    version = take_renamed(old_version, params_version, "--version", "--params-version")
    settings = load_settings()
    if csv_path is not None:
        answers, _ = read_answer_log(csv_path, Columns(student_column, skill_column, correct_column, order_column))
    else:
        answers = warehouse_answers(settings)
    version = version or int(time.time())
    if model is MasteryModel.learner:
        _calibrate_learner(settings, answers, version, half_life_days, dry_run, fmt, out)
        return
    fits = calibrate(
        answers, version=version, half_life_days=half_life_days, min_answers=min_answers, min_pupils=min_pupils
    )
    on_screen = fmt is OutputFormat.table
    rows = []
    for fit in fits.values():
        p = fit.params
        fitted = ("yes" if fit.calibrated else "defaults") if on_screen else fit.calibrated
        probabilities = (round(p.p_init, 4), round(p.p_learn, 4), round(p.p_guess, 4), round(p.p_slip, 4))
        rows.append((fit.skill, fit.n_answers, fit.n_pupils, *probabilities, fitted))
    emit_rows(("skill", "answers", "pupils", "p_init", "p_learn", "p_guess", "p_slip", "fitted"), rows, fmt, out)
    console = Console(stderr=True)
    fitted_at = datetime.now(UTC)
    calibrated = [to_contract(f.skill, f.params, f.n_answers, fitted_at) for f in fits.values() if f.calibrated]
    if dry_run:
        console.print(f"{len(calibrated)} skills calibrated of {len(fits)} (dry run: nothing published)")
        return
    from vigie.core.topics import ensure_topics

    ensure_topics(settings.kafka)
    sent = publish(settings.kafka, calibrated)
    console.print(f"published {sent} skill parameters (version {version}); {len(fits) - sent} skills keep defaults")


def _calibrate_learner(
    settings: VigieSettings,
    answers: AnswerLog,
    version: int,
    half_life_days: float | None,
    dry_run: bool,
    fmt: OutputFormat,
    out: Path | None,
) -> None:
    from datetime import UTC, datetime

    from rich.console import Console

    from vigie.stream.mastery.evaluate import TIMESTAMP_HALF_LIFE_DAYS
    from vigie.stream.mastery.learner_fit import describe, fit_learner
    from vigie.stream.mastery.learner_params import to_contract
    from vigie.stream.mastery.params import publish

    console = Console(stderr=True)
    if half_life_days is None and answers.timestamps:
        half_life_days = TIMESTAMP_HALF_LIFE_DAYS
    fitted = fit_learner(answers, version=version, half_life_days=half_life_days)
    console.print(f"learner model v{version}: {fitted.n_answers} answers, {fitted.n_skills} skills, "
                  f"{fitted.n_domains} domains; global weights {describe(fitted.model)}")  # fmt: skip
    parts = to_contract(fitted.model, fitted.n_answers, datetime.now(UTC))
    if fmt is not OutputFormat.table or out is not None:  # the records as published (the table is the summary)
        columns = ("scope", "key", "prior", "weights", "n_answers")
        records = [part.model_dump(mode="json") for part in parts]
        emit_rows(columns, [tuple(r[c] for c in columns) for r in records], fmt, out)
    if dry_run:
        console.print(f"{len(parts)} learner model records (dry run: nothing published)")
        return
    from vigie.core.topics import ensure_topics

    ensure_topics(settings.kafka)
    sent = publish(settings.kafka, parts)
    console.print(f"published learner model version {version} in {sent} records")
