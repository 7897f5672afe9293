"""``vigie demo``: the option parsing of the end-to-end demo (``vigie.cli.demo`` does the work)."""

from __future__ import annotations

import typer


def demo_command(
    academies: str = typer.Option("lyon,creteil", help="Comma-separated academy codes."),
    students: int = typer.Option(12, help="Pupils per class."),
    days: int = typer.Option(42, help="Calendar days of simulated activity, ending on the last school day."),
    keep_kafka: bool = typer.Option(False, "--keep-kafka", help="Leave the broker running afterwards."),
) -> None:
    """Run the whole pipeline on a simulated cohort and print what was sent, processed and stored."""
    from vigie.cli.demo import run_demo
    from vigie.core.settings import load_settings

    outcome = run_demo(
        load_settings(), academies=tuple(academies.split(",")), students=students, days=days, keep_kafka=keep_kafka
    )
    if not outcome.exactly_once:
        raise typer.Exit(1)
