"""``vigie evaluate signals``: the dropout risk on the simulator (next to the 7-day rule and the former
rules), or on a real log in the common format (``--activity``/``--truth``, next to "no activity for N days")."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import typer

from vigie.core.cli_options import REPORT_FORMAT_HELP, ReportFormat, renamed, take_renamed

#: Seeds of the simulated histories the shipped model is fitted on (7 and 11, the evaluation's, stay apart).
TRAIN_SEEDS = "101,102,104"
SCHOOL_TARGETS = (0.15, 0.25, 0.4)  # precision of low, medium, high pupil-day alerts


def _config(academies: str, students_per_class: int, start: str, days: int, seed: int, dropout_share: float):  # type: ignore[no-untyped-def]
    from vigie.producers.simulator import SimulationConfig

    return SimulationConfig(
        academies=tuple(academies.split(",")),
        students_per_class=students_per_class,
        start=date.fromisoformat(start),
        days=days,
        seed=seed,
        dropout_share=dropout_share,
    )


def fit_school_model(seeds: list[int], make_config: Any, partitions: int, batch_size: int):  # type: ignore[no-untyped-def]
    """Fit the school risk model on simulated histories (the shipped ``risk_model.json`` comes from here)."""
    from vigie.core.settings import load_settings
    from vigie.producers.simulator import Simulation
    from vigie.stream.signals.risk_alerts import fit_school
    from vigie.stream.signals.risk_fit import FitOptions
    from vigie.stream.signals.risk_training import feature_log

    privacy = load_settings().privacy
    logs = []
    for seed in seeds:
        simulation = Simulation(make_config(seed), privacy)
        logs.append(
            (feature_log(simulation.events(), partitions=partitions, batch_size=batch_size), simulation.truth.pupils)
        )
    return fit_school(logs, f"simulator seeds {','.join(map(str, seeds))}", FitOptions(targets=SCHOOL_TARGETS))[0]


def evaluate_signals(
    academies: str = typer.Option("lyon,creteil", help="Comma-separated academy codes."),
    students: int = typer.Option(20, help="Pupils per class."),
    start: str = typer.Option("2025-09-01", help="First simulated day, YYYY-MM-DD."),
    days: int = typer.Option(150, help="Simulated calendar days."),
    seed: int = typer.Option(7, help="Seed of the simulated history that is scored."),
    dropout_share: float = typer.Option(0.15, help="Share of pupils who disengage and stop."),
    partitions: int = typer.Option(6, help="Partitions the events are spread over (per-partition watermarks)."),
    batch_size: int = typer.Option(500, help="Events per batch, as the worker's take_events."),
    window: int = typer.Option(10, help="A flag counts for a drop-out from this many school days before it."),
    refit: bool = typer.Option(False, "--refit", help="Fit the risk model on --train-seeds, not the shipped one."),
    train_seeds: str = typer.Option(TRAIN_SEEDS, help="Simulated histories the model is fitted on (--refit)."),
    save_model: Path | None = typer.Option(None, help="With --refit: write the fitted model there (JSON)."),
    activity: Path | None = typer.Option(None, help="Real log: activity CSV (student,day,events,correct,score)."),
    truth: Path | None = typer.Option(
        None, help="Real log: truth CSV (student,dropped_out,dropout_day,course,start_day,end_day)."
    ),
    train_activity: Path | None = typer.Option(None, help="Real log to fit on: activity CSV."),
    train_truth: Path | None = typer.Option(None, help="Real log to fit on: truth CSV."),
    horizon_days: int = typer.Option(60, help="Real log: a positive withdraws within this many days."),
    baseline_days: int = typer.Option(7, help="Real log: the baseline flags this many days without activity."),
    fmt: ReportFormat = typer.Option(ReportFormat.table, "--format", help=REPORT_FORMAT_HELP),
    as_json: bool = typer.Option(False, "--json", hidden=True, help="Same as --format json (kept for scripts)."),
    old_students: int | None = renamed("--students-per-class", "--students"),
) -> None:
    """Score the dropout risk against known drop-outs: the simulator by default, a real log with --activity.

    Definitions: `vigie.stream.signals.evaluation` (simulator), `vigie.stream.signals.real_evaluation`
    (real logs); docs/signals.md.
    """
    from vigie.core.errors import UsageError

    students = take_renamed(old_students, students, "--students-per-class", "--students")
    as_json = as_json or fmt is ReportFormat.json
    if (activity is None) != (truth is None) or (train_activity is None) != (train_truth is None):
        raise UsageError("give --activity with --truth, and --train-activity with --train-truth")
    if activity is not None and truth is not None:
        _real(activity, truth, train_activity, train_truth, horizon_days, baseline_days, as_json)
        return
    _simulator(
        academies,
        students,
        start,
        days,
        seed,
        dropout_share,
        partitions,
        batch_size,
        window,
        refit,
        train_seeds,
        save_model,
        as_json,
    )


def _real(
    activity: Path,
    truth: Path,
    train_activity: Path | None,
    train_truth: Path | None,
    horizon: int,
    baseline_days: int,
    as_json: bool,
) -> None:
    from rich.console import Console
    from rich.table import Table

    from vigie.stream.signals.real_evaluation import evaluate_real

    result = evaluate_real(
        activity,
        truth,
        train_activity=train_activity,
        train_truth=train_truth,
        horizon=horizon,
        baseline_days=baseline_days,
    )
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    v, b = result["vigie"], result["baseline"]
    console = Console()
    table = Table(
        title=f"Dropout risk on {activity.name}: {v['checkpoints']} checkpoints, "
        f"positive rate {v['positive_rate']:.3f}, horizon {horizon} days"
    )
    for column in ("method", "AUC", "precision", "recall", "lead (days, median)", "alerts"):
        table.add_column(column)
    table.add_row(
        f"vigie (risk ≥ {v['alert_threshold']:.3f})",
        f"{v['auc']:.3f}",
        f"{v['precision']:.3f}",
        f"{v['recall']:.3f}",
        str(v["lead_days_median"]),
        str(v["alerts"]),
    )
    table.add_row(
        f"no activity for {b['days']} days",
        "-",
        f"{b['precision']:.3f}",
        f"{b['recall']:.3f}",
        str(b["lead_days_median"]),
        str(b["alerts"]),
    )
    console.print(table)
    sweep = Table(title="No activity for N days, and the risk at the same recall")
    for column in ("N", "rule precision", "rule recall", "risk precision", "risk recall"):
        sweep.add_column(column)
    for row in result["baseline_sweep"]:
        rule, risk = row["baseline"], row["vigie_at_equal_recall"]
        sweep.add_row(
            str(row["days"]),
            f"{rule['precision']:.3f}",
            f"{rule['recall']:.3f}",
            f"{risk['precision']:.3f}",
            f"{risk['recall']:.3f}",
        )
    console.print(sweep)
    _reliability(console, result["reliability"])


def _reliability(console: Any, rows: list[dict[str, Any]]) -> None:
    from rich.table import Table

    table = Table(title="Calibration: predicted risk against observed rate")
    for column in ("risk", "rows", "mean risk", "observed"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            f"[{row['risk_from']:.2f}, {row['risk_to']:.2f})",
            str(row["rows"]),
            f"{row['mean_risk']:.3f}",
            f"{row['observed']:.3f}",
        )
    console.print(table)


def _simulator(
    academies: str,
    students_per_class: int,
    start: str,
    days: int,
    seed: int,
    dropout_share: float,
    partitions: int,
    batch_size: int,
    window: int,
    refit: bool,
    train_seeds: str,
    save_model: Path | None,
    as_json: bool,
) -> None:
    from rich.console import Console
    from rich.table import Table

    from vigie.core.settings import load_settings
    from vigie.producers.simulator import Simulation
    from vigie.stream.signals.evaluation import evaluate

    def make(s: int):  # type: ignore[no-untyped-def]
        return _config(academies, students_per_class, start, days, s, dropout_share)

    model = None
    if refit:
        seeds = [int(s) for s in train_seeds.split(",") if s.strip()]
        model = fit_school_model(seeds, make, partitions, batch_size)
        if save_model is not None:
            model.save(save_model)
    simulation = Simulation(make(seed), load_settings().privacy)
    result = evaluate(
        simulation.events(),
        simulation.truth.pupils,
        partitions=partitions,
        batch_size=batch_size,
        window=window,
        risk_model=model,
    )
    if as_json:
        typer.echo(json.dumps(result.as_json(), indent=2))
        return
    console = Console()
    scores = Table(title=f"Dropout signals on {len(simulation.truth.pupils)} simulated pupils ({result.events} events)")
    for column in ("method", "flagged", "TP", "FP", "FN", "precision", "recall", "lead (school days, median)"):
        scores.add_column(column)
    rows = [
        ("vigie risk (medium+)", result.vigie),
        ("former rules (medium+)", result.rules),
        ("baseline 7 days", result.baseline),
    ]
    for name, row in rows:
        if row is None:
            continue
        lead = "-" if row.lead_days_median is None else f"{row.lead_days_median:g}"
        scores.add_row(
            name,
            str(row.flagged),
            str(row.true_positives),
            str(row.false_positives),
            str(row.false_negatives),
            f"{row.precision:.3f}",
            f"{row.recall:.3f}",
            lead,
        )
    console.print(scores)
    if result.daily is not None:
        d = result.daily
        console.print(
            f"daily alerts: {d.flagged_per_day:.1f} pupils flagged per school day over {d.school_days} days; "
            f"alert precision {d.alert_precision:.3f} (positive rate {d.positive_rate:.3f}); recall at "
            f"lead ≥ 5 school days {d.recall_at_lead:.3f}; median lead {d.lead_days_median}; "
            f"risk AUC {d.auc:.3f}"
        )
        _reliability(console, d.reliability)
    classes = Table(title="Share of pupils at risk at the end, per class (dropout risk medium or high)")
    for column in ("academy", "school", "class", "pupils", "at risk", "share", "a week before"):
        classes.add_column(column)
    for c in result.classes:
        before = c.at_risk_week_before / c.pupils if c.pupils else 0.0
        classes.add_row(
            c.academy, c.school_uai, c.class_id[:8], str(c.pupils), str(c.at_risk), f"{c.share:.0%}", f"{before:.0%}"
        )
    console.print(classes)
    console.print(f"signals raised by type: {result.by_type}")
