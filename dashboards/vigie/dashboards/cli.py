"""Dashboard commands: build the Grafana JSON, push it by API, write the offline HTML report."""

from __future__ import annotations

from pathlib import Path

import typer

dashboards = typer.Typer(help="Grafana dashboards as code, and the offline report.", no_args_is_help=True)

#: Where ``build`` writes by default: relative to the working directory (in a source checkout, the committed
#: ``dashboards/grafana`` and ``dashboards/provisioning``), never inside the installed package.
DEFAULT_OUT = Path("dashboards") / "grafana"
DEFAULT_PROVISIONING = Path("dashboards") / "provisioning"


@dashboards.command("build")
def build_command(
    out: Path = typer.Option(DEFAULT_OUT, help="Folder of the dashboard JSON (one sub-folder per level)."),
    provisioning_dir: Path = typer.Option(DEFAULT_PROVISIONING, "--provisioning", help="Provisioning folder."),
) -> None:
    """Write every dashboard's JSON and the Grafana provisioning files."""
    from vigie.dashboards import grafana, levels, operations, provisioning

    written = grafana.write_all(levels.all_dashboards(), out) + provisioning.write(provisioning_dir)
    written.append(operations.write(out))
    typer.echo(f"{len(written)} file(s) written" + "".join(f"\n  {p}" for p in written), err=True)


@dashboards.command("push")
def push_command() -> None:
    """Upsert folders and dashboards into Grafana (GRAFANA_URL, GRAFANA_TOKEN); idempotent."""
    from vigie.core.settings import load_settings
    from vigie.dashboards.push import push

    report = push(load_settings())
    typer.echo(
        f"data source health: {report.datasource_health}"
        + (" (created)" if report.datasource_created else "")
        + f"\nfolders created: {report.folders_created or 'none'}"
        + f"\ndashboards pushed: {', '.join(report.dashboards)}"
    )


def report_command(
    academy: str = typer.Option(..., help="Academy code, e.g. lyon."),
    out: Path = typer.Option(Path("report.html"), help="Where to write the HTML page."),
    days: int = typer.Option(30, min=1, help="Period: the last N days."),
) -> None:
    """Write an academy's self-contained HTML report (the dashboards' queries, as inline SVG charts)."""
    import difflib
    from datetime import UTC, datetime, timedelta

    from vigie.core.contract.referential import ACADEMIES
    from vigie.core.errors import PermanentError, UsageError
    from vigie.core.settings import load_settings
    from vigie.dashboards.report import write_report
    from vigie.warehouse.client import connect

    if academy not in ACADEMIES:
        nearest = difflib.get_close_matches(academy, ACADEMIES, n=3)
        hint = f"; did you mean {', '.join(nearest)}?" if nearest else f"; one of {', '.join(sorted(ACADEMIES))}"
        raise UsageError(f"--academy {academy!r} is not an academy code{hint}")
    settings = load_settings()
    now = datetime.now(UTC)
    client = connect(settings)
    since = now - timedelta(days=days)
    answers = client.query(
        f"SELECT count() FROM {settings.warehouse.database}.answers"
        " WHERE academy = {a:String} AND occurred_at >= {t:DateTime64(3)}",
        parameters={"a": academy, "t": since},
    ).result_rows[0][0]
    if not answers:
        raise PermanentError(f"no answer of academy {academy} in the last {days} days: no report written")
    path = write_report(settings, client, academy, out, since, now)
    typer.echo(f"report written to {path}", err=True)  # the data is the file: stdout stays empty


def register(app: typer.Typer) -> None:
    app.add_typer(dashboards, name="dashboards")
    app.command("report")(report_command)
