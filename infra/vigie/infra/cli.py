"""Operator commands: the local Kafka broker, its topics, and the end-to-end demo."""

from __future__ import annotations

import typer

kafka = typer.Typer(help="The local single-node Kafka broker (KRaft, loopback).", no_args_is_help=True)


def _broker():
    from vigie.infra.broker import broker_from_settings
    from vigie.settings import VigieSettings

    return broker_from_settings(VigieSettings())


@kafka.command("start")
def start() -> None:
    """Fetch Kafka's jars if needed, start the broker and create Vigie's topics (idempotent)."""
    from vigie.infra.topics import ensure_topics
    from vigie.settings import VigieSettings

    settings = VigieSettings()
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


def demo_command(
    academies: str = typer.Option("lyon,creteil", help="Comma-separated academy codes."),
    students: int = typer.Option(12, help="Pupils per class."),
    days: int = typer.Option(42, help="Calendar days of simulated activity, ending on the last school day."),
    keep_kafka: bool = typer.Option(False, help="Leave the broker running afterwards."),
) -> None:
    """Run the whole pipeline on a simulated cohort and print what was sent, processed and stored."""
    from vigie.infra.demo import run_demo
    from vigie.settings import VigieSettings

    outcome = run_demo(VigieSettings(), academies=tuple(academies.split(",")), students=students, days=days,
                       keep_kafka=keep_kafka)  # fmt: skip
    if not outcome.exactly_once:
        raise typer.Exit(1)
