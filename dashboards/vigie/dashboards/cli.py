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
    academy: list[str] | None = typer.Option(
        None, help="Academy code, e.g. lyon (repeat for several); default: every academy with enough pupils."
    ),
    out: Path = typer.Option(Path("report"), help="Folder of the pages (index.html is the national page)."),
    days: int = typer.Option(30, min=1, help="Period: the last N days."),
) -> None:
    """Write the offline HTML report: national, academy, school and class pages, linked, self-contained."""
    import difflib
    from datetime import UTC, datetime, timedelta

    from vigie.core.contract.referential import ACADEMIES
    from vigie.core.errors import PermanentError, UsageError
    from vigie.core.settings import load_settings
    from vigie.dashboards.report import write_report
    from vigie.warehouse.client import connect

    for code in academy or []:
        if code not in ACADEMIES:
            nearest = difflib.get_close_matches(code, ACADEMIES, n=3)
            hint = f"; did you mean {', '.join(nearest)}?" if nearest else f"; one of {', '.join(sorted(ACADEMIES))}"
            raise UsageError(f"--academy {code!r} is not an academy code{hint}")
    if out.suffix.lower() in (".html", ".htm"):
        raise UsageError(f"--out {out} names a file: the report is a folder, one page per level (e.g. --out report)")
    settings = load_settings()
    now = datetime.now(UTC)
    client = connect(settings)
    since = now - timedelta(days=days)
    scope = " AND academy IN {a:Array(String)}" if academy else ""
    answers = client.query(
        f"SELECT count() FROM {settings.warehouse.database}.answers WHERE occurred_at >= {{t:DateTime64(3)}}{scope}",
        parameters={"a": list(academy or []), "t": since},
    ).result_rows[0][0]
    if not answers:
        whose = f"of academy {', '.join(academy)} " if academy else ""
        raise PermanentError(f"no answer {whose}in the last {days} days: no report written")
    chosen = list(academy) if academy else None
    report = write_report(settings, client, out, academies=chosen, time_from=since, time_to=now)
    counts = ", ".join(
        f"{len(report.of_level(level))} {name}"
        for level, name in (("national", "national"), ("academy", "academy"), ("school", "school"), ("class", "class"))
    )
    # The data is the pages: the message goes to stderr and stdout stays empty.
    typer.echo(f"report written to {out / 'index.html'} ({len(report.pages)} pages: {counts})", err=True)


def register(app: typer.Typer) -> None:
    app.add_typer(dashboards, name="dashboards")
    app.command("report")(report_command)
