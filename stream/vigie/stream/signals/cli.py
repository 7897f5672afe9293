"""``vigie evaluate signals``: precision, recall and lead time on the simulator, next to the 7-day rule."""

from __future__ import annotations

import json
from datetime import date

import typer


def evaluate_signals(
    academies: str = typer.Option("lyon,creteil", help="Comma-separated academy codes."),
    students_per_class: int = typer.Option(20, help="Pupils per class."),
    start: str = typer.Option("2025-09-01", help="First simulated day (ISO date)."),
    days: int = typer.Option(150, help="Simulated calendar days."),
    seed: int = typer.Option(7),
    dropout_share: float = typer.Option(0.15, help="Share of pupils who disengage and drop out."),
    partitions: int = typer.Option(6, help="Partitions the events are spread over (per-partition watermarks)."),
    batch_size: int = typer.Option(500, help="Events per batch, as the worker's take_events."),
    window: int = typer.Option(10, help="A flag counts for a drop-out from this many school days before it."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
) -> None:
    """Run the simulator's events through the signals processor's logic and score it against the truth.

    Definitions (true positive, lead time, baseline) are in ``vigie.stream.signals.evaluation``.
    """
    from rich.console import Console
    from rich.table import Table

    from vigie.core.settings import load_settings
    from vigie.producers.simulator import Simulation, SimulationConfig
    from vigie.stream.signals.evaluation import evaluate

    settings = load_settings()
    config = SimulationConfig(
        academies=tuple(academies.split(",")),
        students_per_class=students_per_class,
        start=date.fromisoformat(start),
        days=days,
        seed=seed,
        dropout_share=dropout_share,
    )
    simulation = Simulation(config, settings.privacy)
    result = evaluate(
        simulation.events(), simulation.truth.pupils, partitions=partitions, batch_size=batch_size, window=window
    )
    if as_json:
        typer.echo(json.dumps(result.as_json(), indent=2))
        return
    console = Console()
    scores = Table(title=f"Dropout signals on {len(simulation.truth.pupils)} simulated pupils ({result.events} events)")
    for column in ("method", "flagged", "TP", "FP", "FN", "precision", "recall", "lead (school days, median)"):
        scores.add_column(column)
    for name, row in (("vigie", result.vigie), ("baseline 7 days", result.baseline)):
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
    classes = Table(title="Share of pupils at risk at the end, per class (medium or high dropout signal)")
    for column in ("academy", "school", "class", "pupils", "at risk", "share", "a week before"):
        classes.add_column(column)
    for c in result.classes:
        before = c.at_risk_week_before / c.pupils if c.pupils else 0.0
        classes.add_row(
            c.academy, c.school_uai, c.class_id[:8], str(c.pupils), str(c.at_risk), f"{c.share:.0%}", f"{before:.0%}"
        )
    console.print(classes)
    console.print(f"signals raised by type: {result.by_type}")
