"""Operator commands: the local Kafka broker and its topics."""

from __future__ import annotations

import typer

kafka = typer.Typer(help="The local single-node Kafka broker (KRaft, loopback).", no_args_is_help=True)


def _broker():
    from vigie.core.settings import load_settings
    from vigie.infra.broker import broker_from_settings

    return broker_from_settings(load_settings())


@kafka.command("start")
def start() -> None:
    """Fetch Kafka's jars if needed, start the broker and create Vigie's topics (idempotent)."""
    from vigie.core.settings import load_settings
    from vigie.core.topics import ensure_topics

    settings = load_settings()
    status = _broker().start(settings.broker.start_timeout_s)
    created = ensure_topics(settings.kafka)
    typer.echo(f"Kafka running (pid {status.pid}) on {status.bootstrap}; topics created: {len(created)}")


@kafka.command("stop")
def stop() -> None:
    """Stop the broker if it runs."""
    typer.echo("Kafka stopped" if _broker().stop() else "Kafka was not running")


@kafka.command("status")
def status() -> None:
    """Show whether the broker runs and answers."""
    current = _broker().status()
    state = "running" if current.running else ("not answering" if current.process_alive else "stopped")
    typer.echo(f"Kafka {state} (pid {current.pid}) on {current.bootstrap}")
    if not current.running:
        raise typer.Exit(1)
