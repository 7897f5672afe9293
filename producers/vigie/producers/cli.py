"""Producer commands: simulate a cohort into Kafka or a file."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import Progress

from vigie.settings import VigieSettings


def simulate(
    academies: str = typer.Option("lyon", help="Comma-separated academy codes."),
    students: int = typer.Option(12, help="Pupils per class."),
    days: int = typer.Option(5, help="Days of activity, ending today."),
    seed: int = typer.Option(42),
    out: Path | None = typer.Option(None, help="Write JSON lines here instead of publishing to Kafka."),
) -> None:
    """Generate a simulated cohort's events and publish them (or write them to a file)."""
    from vigie.contract.codec import encode
    from vigie.producers.pseudonym import Pseudonymizer
    from vigie.producers.sdk import EventPublisher
    from vigie.producers.simulator import CohortConfig, simulate

    settings = VigieSettings()
    config = CohortConfig(academies=tuple(academies.split(",")), students_per_class=students, days=days, seed=seed)
    events = simulate(config, Pseudonymizer(settings.privacy.key_for(config.academies[0])))
    count = 0
    with Progress() as progress:
        task = progress.add_task("simulating", total=None)
        if out is not None:
            with out.open("wb") as sink:
                for event in events:
                    sink.write(encode(event) + b"\n")
                    count += 1
                    progress.advance(task)
        else:
            with EventPublisher(settings.kafka) as publisher:
                for event in events:
                    publisher.publish(event)
                    count += 1
                    progress.advance(task)
    typer.echo(f"{count} events {'written to ' + str(out) if out else 'published'}")


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate)
