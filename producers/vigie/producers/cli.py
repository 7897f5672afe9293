"""Producer commands: simulate a cohort, print the contract's JSON Schema, ingest xAPI statements."""

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


def schema(
    model: str | None = typer.Option(
        None, help="One model by kind (answer, session_started, ..., dead_letter); default: the learning-events union."
    ),
    out: Path | None = typer.Option(None, help="Write to this file instead of printing."),
) -> None:
    """Print the JSON Schema of the learning events platforms send (or of one contract model)."""
    from vigie.producers.schema import MODELS, learning_event_schema, model_schema, render

    if model is not None and model not in MODELS:
        raise typer.BadParameter(f"unknown model {model!r}; one of {', '.join(MODELS)}", param_hint="--model")
    text = render(learning_event_schema() if model is None else model_schema(model))
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"schema written to {out}")


def skills(
    level: str | None = typer.Option(None, help="Only the skills of this level's cycle (CP ... 2nde)."),
    subject: str | None = typer.Option(None, help="francais or mathematiques."),
) -> None:
    """List the skill taxonomy: the codes platforms put in ``skill_code``, with their French labels."""
    from rich.console import Console
    from rich.table import Table

    from vigie.contract.referential import CYCLE_OF_LEVEL, SUBJECTS
    from vigie.contract.taxonomy import skills as all_skills

    if level is not None and level not in CYCLE_OF_LEVEL:
        raise typer.BadParameter(f"unknown level {level!r}; one of {', '.join(CYCLE_OF_LEVEL)}", param_hint="--level")
    if subject is not None and subject not in SUBJECTS:
        raise typer.BadParameter(f"unknown subject {subject!r}; one of {', '.join(SUBJECTS)}", param_hint="--subject")
    table = Table("code", "cycle", "subject", "domain", "label")
    shown = 0
    for skill in all_skills().values():
        if (level is None or skill.cycle == CYCLE_OF_LEVEL[level]) and subject in (None, skill.subject):
            table.add_row(skill.code, skill.cycle, skill.subject, skill.domain, skill.label)
            shown += 1
    Console(width=200).print(table)
    typer.echo(f"{shown} skills")


xapi = typer.Typer(help="Ingest xAPI statements (JSON lines) as learning events.", no_args_is_help=True)


@xapi.command("ingest")
def xapi_ingest(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="JSON lines, one xAPI statement per line."),
    platform: str = typer.Option("xapi", help="Platform slug of these statements (part of each event id)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Map and report only; publish nothing."),
) -> None:
    """Publish the mappable statements; send the others, with their reasons, to the dead-letter topic."""
    from vigie.contract.topics import DEAD_LETTERS
    from vigie.errors import RetriableError
    from vigie.producers.builder import EventBuilder
    from vigie.producers.sdk import EventPublisher
    from vigie.producers.xapi import XapiMapper, ingest_lines

    settings = VigieSettings()
    mapper = XapiMapper(EventBuilder(platform, settings.privacy))
    publisher = None if dry_run else EventPublisher(settings.kafka)
    letters = 0

    def rejected(letter) -> None:
        nonlocal letters
        letters += 1
        if publisher is not None:
            publisher.publish_dead_letter(letter)

    try:
        with path.open("rb") as lines, Progress(transient=True) as progress:
            task = progress.add_task(f"ingesting {path.name}", total=path.stat().st_size)
            report = ingest_lines(
                lines, mapper, source=path.name,
                on_event=publisher.publish if publisher is not None else lambda _event: None,
                on_rejected=rejected,
                on_line=lambda: progress.update(task, completed=lines.tell()),
            )  # fmt: skip
        if publisher is not None:
            publisher.flush()
            if publisher.failed:
                raise RetriableError(f"{publisher.failed} events were not delivered to {publisher.topic}")
    finally:
        if publisher is not None:
            publisher.close()
    verb = "would publish" if dry_run else "published"
    where = "" if dry_run else f" to {DEAD_LETTERS.name(settings.kafka.topic_prefix)}"
    typer.echo(f"{report.lines} statements read, {report.mapped} {verb}, {report.rejected} rejected{where}")
    for field, count in report.reasons.most_common():
        typer.echo(f"  {count} rejected at {field}")


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate)
    app.command("schema")(schema)
    app.command("skills")(skills)
    app.add_typer(xapi, name="xapi")
