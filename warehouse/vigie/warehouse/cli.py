"""Warehouse commands: migrations, the sink, and SQL for analysts."""

from __future__ import annotations

import typer

warehouse = typer.Typer(help="The ClickHouse history.", no_args_is_help=True)


@warehouse.command("migrate")
def migrate_command() -> None:
    """Apply the schema migrations not applied yet (idempotent)."""
    from vigie.settings import VigieSettings
    from vigie.warehouse.client import connect
    from vigie.warehouse.migrations import migrate

    settings = VigieSettings()
    applied = migrate(connect(settings), settings.warehouse)
    typer.echo(f"{len(applied)} migration(s) applied" + "".join(f"\n  {m.version:04d}_{m.name}" for m in applied))


def sink_command(
    idle_timeout: float | None = typer.Option(None, help="Stop after this many seconds without a message."),
) -> None:
    """Consume Vigie's topics into ClickHouse, in batches, until interrupted."""
    from vigie.settings import VigieSettings
    from vigie.warehouse.client import connect
    from vigie.warehouse.migrations import migrate
    from vigie.warehouse.sink import Sink

    settings = VigieSettings()
    client = connect(settings)
    migrate(client, settings.warehouse)
    sink = Sink(settings, client)
    try:
        stats = sink.run(idle_timeout_s=idle_timeout)
    except KeyboardInterrupt:
        sink.stop()
        stats = sink.stats
    typer.echo(f"consumed {stats.consumed}, inserted {stats.inserted}, duplicates skipped {stats.duplicates_skipped}")


def register(app: typer.Typer) -> None:
    app.add_typer(warehouse, name="warehouse")
    app.command("sink")(sink_command)
