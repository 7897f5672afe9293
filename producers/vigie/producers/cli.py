"""Producer commands: simulate a cohort, print the contract's JSON Schema, ingest xAPI statements."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress

from vigie.core.cli_options import FORMAT_HELP, OutputFormat, emit_rows, renamed, take_renamed
from vigie.core.settings import load_settings


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

    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from vigie.producers.sdk import EventPublisher
    from vigie.producers.simulator import Simulation, SimulationConfig
    from vigie.producers.simulator.output import paced, publish, write_jsonl

    settings = load_settings()
    config = SimulationConfig(
        academies=tuple(a.strip() for a in academies.split(",") if a.strip()),
        schools_per_academy=schools,
        classes_per_school=classes,
        students_per_class=students,
        days=days,
        start=_parse_day(start),
        seed=seed,
        dropout_share=dropout_share,
    )
    sim = Simulation(config, settings.privacy)
    console = Console(stderr=True)  # progress and counts are messages: stdout stays free
    console.print(
        f"simulating {config.pupils_count} pupils of {', '.join(config.academies)} "
        f"from {sim.start} to {sim.end} (seed {seed})"
    )
    kinds: Counter[str] = Counter()
    platforms: Counter[str] = Counter()
    began = time.monotonic()
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("days · {task.fields[events]} events"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
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
    console.print(
        f"{kinds.total()} events {where} in {elapsed:.1f}s ({kinds.total() / max(elapsed, 1e-9):,.0f}/s)"
        + (f"; ground truth in {truth}" if truth else "")
    )
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


def schema(
    kind: str | None = typer.Option(
        None, help="One event kind (answer, session_started, ..., dead_letter); default: the learning-events union."
    ),
    out: Path | None = typer.Option(None, help="Write to this file instead of stdout."),
    old_model: str | None = renamed("--model", "--kind"),
) -> None:
    """Print the JSON Schema of the learning events platforms send (or of one contract model)."""
    from vigie.producers.schema import MODELS, learning_event_schema, model_schema, render

    kind = take_renamed(old_model, kind, "--model", "--kind")
    if kind is not None and kind not in MODELS:
        raise typer.BadParameter(f"unknown kind {kind!r}; one of {', '.join(MODELS)}", param_hint="--kind")
    text = render(learning_event_schema() if kind is None else model_schema(kind))
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"schema written to {out}", err=True)


def skills(
    level: str | None = typer.Option(None, help="Only the skills of this level's cycle (CP ... 2nde)."),
    subject: str | None = typer.Option(None, help="francais or mathematiques."),
    fmt: OutputFormat = typer.Option(OutputFormat.table, "--format", help=FORMAT_HELP),
    out: Path | None = typer.Option(None, help="File to write instead of stdout (required for parquet)."),
) -> None:
    """List the skill taxonomy: the codes platforms put in `skill_code`, with their French labels."""
    from vigie.core.contract.referential import CYCLE_OF_LEVEL, SUBJECTS
    from vigie.core.contract.taxonomy import skills as all_skills

    if level is not None and level not in CYCLE_OF_LEVEL:
        raise typer.BadParameter(f"unknown level {level!r}; one of {', '.join(CYCLE_OF_LEVEL)}", param_hint="--level")
    if subject is not None and subject not in SUBJECTS:
        raise typer.BadParameter(f"unknown subject {subject!r}; one of {', '.join(SUBJECTS)}", param_hint="--subject")
    rows = [
        (skill.code, skill.cycle, skill.subject, skill.domain, skill.label)
        for skill in all_skills().values()
        if (level is None or skill.cycle == CYCLE_OF_LEVEL[level]) and subject in (None, skill.subject)
    ]
    emit_rows(("code", "cycle", "subject", "domain", "label"), rows, fmt, out, width=200)
    typer.echo(f"{len(rows)} skills", err=True)


xapi = typer.Typer(help="Ingest xAPI statements (JSON lines) as learning events.", no_args_is_help=True)


@xapi.command("ingest")
def xapi_ingest(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="JSON lines, one xAPI statement per line."),
    platform: str = typer.Option("xapi", help="Platform slug of these statements (part of each event id)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Map and report only; publish nothing."),
) -> None:
    """Publish the mappable statements; send the others, with their reasons, to the dead-letter topic."""
    from vigie.core.errors import RetriableError
    from vigie.core.topics import DEAD_LETTERS
    from vigie.producers.builder import EventBuilder
    from vigie.producers.sdk import EventPublisher
    from vigie.producers.xapi import XapiMapper, ingest_lines

    settings = load_settings()
    mapper = XapiMapper(EventBuilder(platform, settings.privacy))
    publisher = None if dry_run else EventPublisher(settings.kafka)
    letters = 0

    def rejected(letter) -> None:
        nonlocal letters
        letters += 1
        if publisher is not None:
            publisher.publish_dead_letter(letter)

    try:
        with path.open("rb") as lines, Progress(console=Console(stderr=True), transient=True) as progress:
            task = progress.add_task(f"ingesting {path.name}", total=path.stat().st_size)
            report = ingest_lines(
                lines,
                mapper,
                source=path.name,
                on_event=publisher.publish if publisher is not None else lambda _event: None,
                on_rejected=rejected,
                on_line=lambda: progress.update(task, completed=lines.tell()),
            )
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
    if report.mapped == 0:  # nothing useful was done: say so with the exit status too
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    from vigie.producers.gateway.cli import register as register_gateway

    app.command("simulate")(simulate)
    app.command("schema")(schema)
    app.command("skills")(skills)
    app.add_typer(xapi, name="xapi")
    register_gateway(app)
