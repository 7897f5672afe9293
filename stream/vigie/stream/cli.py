"""Stream commands: run a faust worker."""

from __future__ import annotations

import typer

app = typer.Typer(help="faust processors: mastery and dropout signals.", no_args_is_help=True)


@app.command("worker")
def worker(loglevel: str = typer.Option("warning", help="faust's log level.")) -> None:
    """Run a stream worker (scale out by starting more: they share the partitions)."""
    from vigie.settings import VigieSettings
    from vigie.stream.worker import run_worker

    run_worker(VigieSettings(), loglevel=loglevel)
