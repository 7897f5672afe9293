"""Warehouse commands: migrations, retention, access SQL, the sink, erasure, and SQL for analysts."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path

import typer

from vigie.core.cli_options import FORMAT_HELP, OutputFormat, check_output, renamed, take_renamed

warehouse = typer.Typer(help="The ClickHouse history.", no_args_is_help=True)


class AccessChoice(StrEnum):
    """``--access`` of ``access-sql`` (typed: anything else is a usage error, listed in ``--help``)."""

    aggregates = "aggregates"
    analyst = "analyst"


@warehouse.command("migrate")
def migrate_command() -> None:
    """Apply the schema migrations not applied yet (idempotent); re-create what is missing, say what is lost."""
    from vigie.core.settings import load_settings
    from vigie.warehouse.client import connect
    from vigie.warehouse.migrations import migrate_and_repair

    settings = load_settings()
    applied, repaired = migrate_and_repair(connect(settings), settings.warehouse)
    typer.echo(f"{len(applied)} migration(s) applied" + "".join(f"\n  {m.version:04d}_{m.name}" for m in applied))
    db = settings.warehouse.database
    for name in repaired.recreated:
        rows = repaired.backfilled.get(name)
        typer.echo(f"re-created missing {db}.{name}" + (f" (backfilled {rows} rows)" if rows is not None else ""))
    for problem in repaired.problems:
        typer.echo(f"warning: {problem}", err=True)


@warehouse.command("retention")
def retention_command(
    days: int | None = typer.Option(None, help="New retention in days (default VIGIE_WAREHOUSE__RETENTION_DAYS, 730)."),
    show: bool = typer.Option(False, "--show", help="Only print each table's current retention."),
    fmt: OutputFormat = typer.Option(OutputFormat.table, "--format", help=f"With --show: {FORMAT_HELP}"),
    out: Path | None = typer.Option(None, help="With --show: file to write instead of stdout."),
) -> None:
    """Change the TTL of every existing table (ALTER TABLE ... MODIFY TTL), or show it."""
    from vigie.core.cli_options import emit_rows
    from vigie.core.settings import load_settings
    from vigie.warehouse.client import connect
    from vigie.warehouse.migrations import migrate
    from vigie.warehouse.retention import retention, set_retention

    if not show and (fmt is not OutputFormat.table or out is not None):
        raise typer.BadParameter("--format and --out print the current retention: add --show")
    check_output(fmt, out)
    settings = load_settings()
    client = connect(settings)
    migrate(client, settings.warehouse)
    db = settings.warehouse.database
    if show:
        rows = [(t.table, t.days) for t in retention(client, db)]
        emit_rows(("table", "retention_days"), rows, fmt, out)
        return
    target = days if days is not None else settings.warehouse.retention_days
    changed = set_retention(client, db, target)
    from vigie.warehouse.daily import reconcile_all

    reconcile_all(client, db, target)  # the pupils the new TTL dropped leave the sums and the cells
    typer.echo(
        f"retention {target} days: {len(changed)} table(s) changed"
        + "".join(f"\n  {t}: {old} -> {new}" for t, old, new in changed)
    )


@warehouse.command("mastery-sums")
def mastery_sums_command(
    fix: bool = typer.Option(False, "--reconcile", help="Add the differences to the sums (run daily, sink quiet)."),
) -> None:
    """Compare the group mastery sums with the pupils' latest estimates (retained), the progress sums per
    academy and level with the pupils' own sums, and the platform effect's cells with the per-pupil figures;
    --reconcile makes them equal (the cells are only kept so: run it daily).

    Differences come from pupils dropped by retention, pupils who changed school, or updates without their
    previous estimate (docs/warehouse.md); the sums are additive, so the difference is inserted as a row.
    """
    from vigie.core.settings import load_settings
    from vigie.warehouse import effect_sums, gain_sums, mastery_sums
    from vigie.warehouse.client import connect
    from vigie.warehouse.migrations import migrate

    settings = load_settings()
    client = connect(settings)
    migrate(client, settings.warehouse)
    db, days = settings.warehouse.database, settings.warehouse.retention_days
    if fix:
        from vigie.warehouse.daily import reconcile_all

        for table, corrected in reconcile_all(client, db, days).items():
            unit = "cell(s)" if table == effect_sums.SUMS else "group(s)"
            typer.echo(f"{corrected} {unit} of {db}.{table} corrected")
        return
    drifted = mastery_sums.drift(client, db, days)
    typer.echo(f"{len(drifted)} group(s) of {db}.{mastery_sums.SUMS} differ from the pupils' latest estimates")
    for d in drifted[:20]:
        typer.echo(
            f"  {' '.join(d.group)}: pupils {d.pupils:+d}, mastered {d.mastered:+d}, sum {d.p_sum_e9 / 1e9:+.6f}"
        )
    gains = gain_sums.drift(client, db, days)
    typer.echo(f"{len(gains)} group(s) of {db}.{gain_sums.SUMS} differ from the pupils' own sums")
    for g in gains[:20]:
        typer.echo(
            f"  {' '.join(g.group)}: skills {g.skills:+d}, first {g.first_sum_e9 / 1e9:+.6f},"
            f" latest {g.latest_sum_e9 / 1e9:+.6f}"
        )
    cells = effect_sums.drift(client, db, days)
    typer.echo(f"{len(cells)} cell(s) of {db}.{effect_sums.SUMS} differ from the per-pupil figures")


@warehouse.command("access-sql")
def access_sql_command(
    academy: str = typer.Option(..., help="Academy code, e.g. lyon."),
    password_env: str = typer.Option(..., help="Name of the environment variable holding the user's password."),
    access: AccessChoice = typer.Option(
        AccessChoice.aggregates, help="aggregates: the k-anonymous views only; analyst: every table."
    ),
    admin_user: str = typer.Option("default", help="The server user the sink writes with (keeps every row)."),
    old_level: AccessChoice | None = renamed("--level", "--access"),
) -> None:
    """Print the SQL creating a read-only user for one academy (role, row policies, SELECT grants)."""
    from vigie.core.errors import ConfigurationError
    from vigie.core.settings import load_settings
    from vigie.warehouse.access import access_sql, objects_of, render
    from vigie.warehouse.client import connect
    from vigie.warehouse.migrations import migrate

    access = take_renamed(old_level, access, "--level", "--access")
    password = os.environ.get(password_env)
    if not password:
        raise ConfigurationError(f"set the password in the environment variable {password_env}")
    settings = load_settings()
    client = connect(settings)
    migrate(client, settings.warehouse)
    db = settings.warehouse.database
    statements = access_sql(
        objects_of(client, db),
        db,
        academy,
        password,
        level=access.value,
        admin_user=admin_user or None,
    )
    typer.echo(render(statements), nl=False)


@warehouse.command("schools")
def schools_command(
    directory: Path = typer.Argument(
        ..., help="CSV in the layout of the national school directory's export (';' separated).", exists=True
    ),
) -> None:
    """Load the school directory (UAI → name, commune): the report shows names, not codes (v_school_directory)."""
    from vigie.core.settings import load_settings
    from vigie.warehouse.client import connect
    from vigie.warehouse.migrations import migrate
    from vigie.warehouse.schools import load, read_directory

    schools = read_directory(directory)  # a bad file is refused before the warehouse is opened
    settings = load_settings()
    client = connect(settings)
    migrate(client, settings.warehouse)
    written = load(client, settings.warehouse.database, schools)
    known = sum(1 for s in schools if s.academy)
    typer.echo(
        f"{written} school(s) loaded into {settings.warehouse.database}.school_directory ({known} with a known academy)"
    )


def sql_command(
    query: str = typer.Argument(..., help='A reading query, e.g. "SELECT * FROM vigie.v_academy_at_risk".'),
    fmt: OutputFormat = typer.Option(OutputFormat.table, "--format", help=FORMAT_HELP),
    out: Path | None = typer.Option(None, help="File to write instead of stdout (required for parquet)."),
) -> None:
    """Run a query on the configured warehouse: a table on screen, JSON or CSV on stdout, or a file."""
    from rich.console import Console

    from vigie.core.settings import load_settings
    from vigie.warehouse.client import connect
    from vigie.warehouse.query import render, run_query, write
    from vigie.warehouse.sqlguard import check_reading

    check_output(fmt, out)
    check_reading(query)  # refused before the engine is even opened (run_query checks again with its list)
    settings = load_settings()
    # Embedded (here or through the process that owns it): a second handle of the engine whose session is
    # readonly = 1 for good, so the caller's own handle can still write. A server: the query's own setting.
    client = connect(settings, read_only=True)
    result = run_query(client, query, engine_readonly=settings.clickhouse_url is not None)
    if fmt is OutputFormat.table:
        Console().print(render(result))
        return
    write(result, fmt.value, out)
    if out is not None:  # the data went to the file: the message goes to stderr, stdout stays empty
        typer.echo(f"{result.num_rows} row(s) written to {out}", err=True)


def sink_command(
    idle_timeout: float | None = typer.Option(None, help="Stop after this many seconds without a message."),
) -> None:
    """Consume Vigie's topics into ClickHouse, in batches, until interrupted (SIGINT or SIGTERM).

    With the embedded warehouse, the sink also serves it to the other commands (`vigie sql`, `report`...)
    while it runs.
    """
    from vigie.core.settings import load_settings
    from vigie.warehouse import metrics
    from vigie.warehouse.client import connect
    from vigie.warehouse.endpoint import serve
    from vigie.warehouse.migrations import migrate
    from vigie.warehouse.sink import Sink

    settings = load_settings()
    client = connect(settings)
    endpoint = serve(settings)
    metrics.serve(settings.sink.metrics_port)
    try:
        migrate(client, settings.warehouse)
        sink = Sink(settings, client)
        with _stopping_on_signals(sink.stop):
            stats = sink.run(idle_timeout_s=idle_timeout)
    finally:
        if endpoint is not None:
            endpoint.close()
    typer.echo(f"consumed {stats.consumed}, inserted {stats.inserted}, duplicates skipped {stats.duplicates_skipped}")


@contextmanager
def _stopping_on_signals(stop: Callable[[], None]) -> Iterator[None]:
    """SIGINT and SIGTERM ask ``stop`` (the current batch is flushed and committed) instead of killing."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, lambda *_: stop())
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def register(app: typer.Typer) -> None:
    app.add_typer(warehouse, name="warehouse")
    app.command("sink")(sink_command)
    app.command("sql")(sql_command)
