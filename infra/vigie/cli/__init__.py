"""``vigie``: the one command line, composing every part of the data flow (the layer above them all).

Each part contributes its own Typer app; heavy dependencies (faust, the ClickHouse engine) are
imported inside commands, so ``vigie --help`` is fast and a producer-only install still works.
"""

from __future__ import annotations

import sys

import typer

from vigie.cli.calibrate import calibrate_command
from vigie.cli.demo_command import demo_command
from vigie.cli.erase import erase_command
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


@app.callback()
def _main(log_level: str = typer.Option("INFO", "--log-level", envvar="VIGIE_LOG_LEVEL")) -> None:
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
evaluate.command("mastery")(evaluate_mastery_command)


def main() -> None:
    try:
        app()
    except UsageError as error:
        typer.secho(f"usage error: {error}", fg=typer.colors.RED, err=True)
        sys.exit(2)
    except ConfigurationError as error:
        typer.secho(f"configuration error: {error}", fg=typer.colors.RED, err=True)
        sys.exit(2)
    except VigieError as error:
        typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
        sys.exit(1)
