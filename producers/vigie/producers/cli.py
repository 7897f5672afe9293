"""Producer commands: simulate a cohort into Kafka or a file."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import Progress

from vigie.settings import VigieSettings


def simulate(
    academies: str = typer.Option("lyon", help="Comma-separated academy codes, e.g. lyon,creteil."),
    students: int = typer.Option(12, help="Pupils per class."),
    schools: int = typer.Option(2, help="Schools per academy."),
    classes: int = typer.Option(2, help="Classes per school."),
    days: int = typer.Option(15, help="Calendar days of activity (the window ends yesterday unless --start)."),
    start: str | None = typer.Option(None, help="First simulated day, YYYY-MM-DD."),
    rate: float = typer.Option(0.0, help="Events per second (0: as fast as possible)."),
    dropout_share: float = typer.Option(0.15, help="Share of pupils who disengage and stop."),
    seed: int = typer.Option(42, help="Same seed, same events."),
    out: Path | None = typer.Option(None, help="Write JSON lines here instead of publishing to Kafka."),
    truth: Path | None = typer.Option(None, help="Also write the ground truth (JSON) here."),
) -> None:
    """Simulate a cohort (learning, forgetting, drop-outs) and publish its events (or write them to a file)."""
    import time
    from collections import Counter

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from vigie.producers.sdk import EventPublisher
    from vigie.producers.simulator import Simulation, SimulationConfig
    from vigie.producers.simulator.output import paced, publish, write_jsonl

    settings = VigieSettings()
    config = SimulationConfig(
        academies=tuple(a.strip() for a in academies.split(",") if a.strip()), schools_per_academy=schools,
        classes_per_school=classes, students_per_class=students, days=days,
        start=_parse_day(start), seed=seed, dropout_share=dropout_share,
    )  # fmt: skip
    sim = Simulation(config, settings.privacy)
    console = Console()
    console.print(f"simulating {config.pupils_count} pupils of {', '.join(config.academies)} "
                  f"from {sim.start} to {sim.end} (seed {seed})")  # fmt: skip
    kinds: Counter[str] = Counter()
    platforms: Counter[str] = Counter()
    began = time.monotonic()
    with Progress(
        TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("days · {task.fields[events]} events"), TimeElapsedColumn(), console=console,
    ) as progress:  # fmt: skip
        task = progress.add_task("simulating", total=len(sim.days), events=0)

        def seen(event) -> None:
            kinds[event.kind] += 1
            platforms[event.platform] += 1
            if kinds.total() % 500 == 0:
                progress.update(task, completed=(event.occurred_at.date() - sim.start).days, events=kinds.total())

        events = paced(sim.events(), rate)
        failed = 0
        if out is not None:
            write_jsonl(events, out, on_event=seen)
        else:
            with EventPublisher(settings.kafka) as publisher:
                publish(events, publisher, on_event=seen)
            failed = publisher.failed
        progress.update(task, completed=len(sim.days), events=kinds.total())
    elapsed = time.monotonic() - began
    if truth is not None:
        sim.truth.save(truth)

    table = Table(title="simulated events")
    table.add_column("what")
    table.add_column("count", justify="right")
    for kind, n in sorted(kinds.items()):
        table.add_row(kind, str(n))
    for platform, n in sorted(platforms.items()):
        table.add_row(f"platform {platform}", str(n))
    table.add_row("pupils", str(len(sim.truth.pupils)))
    table.add_row("pupils who drop out", str(len(sim.truth.dropouts)))
    table.add_row("total", str(kinds.total()))
    console.print(table)
    where = f"written to {out}" if out is not None else f"published to Kafka ({failed} failed)"
    console.print(f"{kinds.total()} events {where} in {elapsed:.1f}s ({kinds.total() / max(elapsed, 1e-9):,.0f}/s)"
                  + (f"; ground truth in {truth}" if truth else ""))  # fmt: skip
    if failed:
        raise typer.Exit(1)


def _parse_day(text: str | None):
    from datetime import date

    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date like 2025-09-08", param_hint="--start") from None


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate)
