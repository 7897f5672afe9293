"""``vigie``: the one command line, composing every part of the data flow (the layer above them all).

Each part contributes its own Typer app; heavy dependencies (faust, the ClickHouse engine) are
imported inside commands, so ``vigie --help`` is fast and a producer-only install still works.
"""

from __future__ import annotations

import sys
import traceback

import typer

from vigie.cli.calibrate import calibrate_command
from vigie.cli.demo_command import demo_command
from vigie.cli.erase import erase_command
from vigie.cli.run import run_command
from vigie.cli.status import status_command
from vigie.core.errors import ConfigurationError, UsageError, VigieError
from vigie.core.logs import configure
from vigie.dashboards.cli import register as register_dashboards
from vigie.infra.cli import kafka as kafka_app
from vigie.producers.cli import register as register_producers
from vigie.stream.cli import app as stream_app
from vigie.stream.cli import evaluate_mastery_command
from vigie.stream.signals.cli import evaluate_signals
from vigie.warehouse.cli import register as register_warehouse

app = typer.Typer(
    help="Vigie: learning analytics for French academies (producers -> Kafka -> faust -> ClickHouse -> Grafana).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
evaluate = typer.Typer(help="Measure Vigie's models against ground truth or a public answer log.", no_args_is_help=True)


#: Set by ``--debug``: errors then show their traceback too.
_debug = False


def _version(show: bool) -> None:
    if show:
        from importlib.metadata import version

        typer.echo(f"vigie {version('vigie')}")
        raise typer.Exit()


@app.callback()
def _main(
    log_level: str = typer.Option("INFO", "--log-level", envvar="VIGIE_LOG_LEVEL", help="DEBUG, INFO, WARNING..."),
    debug: bool = typer.Option(False, "--debug", help="Show the traceback of an error."),
    _show_version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print Vigie's version and exit."
    ),
) -> None:
    global _debug
    _debug = debug
    configure(log_level)


app.add_typer(kafka_app, name="kafka")
app.add_typer(stream_app, name="stream")
app.add_typer(evaluate, name="evaluate")
evaluate.command("signals")(evaluate_signals)
register_producers(app)
register_warehouse(app)
register_dashboards(app)
app.command("demo")(demo_command)
app.command("calibrate")(calibrate_command)
app.command("erase")(erase_command)
app.command("status")(status_command)
app.command("run")(run_command)
evaluate.command("mastery")(evaluate_mastery_command)


def main() -> None:
    try:
        app()
    except VigieError as error:
        if _debug:
            traceback.print_exc()
        sys.exit(report(error))
    except Exception as error:
        if not type(error).__module__.startswith("clickhouse_connect"):
            raise
        # The warehouse refused a statement (bad SQL, read-only): its own message, one line.
        if _debug:
            traceback.print_exc()
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        typer.secho(f"warehouse error: {first}", fg=typer.colors.RED, err=True)
        sys.exit(1)


def report(error: VigieError) -> int:
    """Say in one line what is wrong and what to do (the traceback with --debug); the exit status."""
    if isinstance(error, UsageError | ConfigurationError):
        kind = "usage error" if isinstance(error, UsageError) else "configuration error"
        typer.secho(f"{kind}: {error}", fg=typer.colors.RED, err=True)
        return 2
    typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
    return 1
