"""The offline HTML report: one page per level (national, academy, school, class), linked up and down.

For embedded mode or any reader without Grafana: ``vigie report --out report/`` writes a folder of
self-contained pages (no script, style or font fetched; works from a USB stick) drawn from the
dashboards' own queries as inline SVG and tables, in French: labels, skill labels beside their codes,
school names from the school directory the operator loaded (``vigie warehouse schools``; the UAI
otherwise), percentages, French dates. ``site`` says what each level holds and what hides small groups.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import DatabaseError

from vigie.core.settings import VigieSettings
from vigie.dashboards.french import French, SchoolLabel
from vigie.dashboards.report.site import Report, build

log = logging.getLogger(__name__)

__all__ = ["Report", "academies_with_data", "school_labels", "write_report"]


def academies_with_data(client: Client, database: str) -> list[str]:
    """The academies the national view shows (at least k pupils), in order."""
    rows = client.query(f"SELECT DISTINCT academy FROM {database}.v_academy_at_risk ORDER BY academy").result_rows
    return [str(r[0]) for r in rows]


def school_labels(client: Client, database: str) -> dict[str, SchoolLabel]:
    """The school directory's names; empty (codes shown) when it was never loaded or predates its migration."""
    from vigie.warehouse.schools import names

    try:
        known = names(client, database)
    except DatabaseError as error:
        if "UNKNOWN_TABLE" not in str(error) and "doesn't exist" not in str(error):
            raise
        log.warning("no school directory in %s (run `vigie warehouse migrate`): schools shown by UAI", database)
        return {}
    return {uai: SchoolLabel(s.name, s.commune) for uai, s in known.items()}


def write_report(
    settings: VigieSettings,
    client: Client,
    out_dir: Path,
    *,
    academies: list[str] | None = None,
    time_from: datetime | None = None,
    time_to: datetime | None = None,
) -> Report:
    """Write every page under ``out_dir`` (default period: the last 30 days); the entry is ``index.html``.

    ``academies``: the academies whose pages to write (default: every academy the national view shows).
    """
    time_to = time_to or datetime.now(UTC)
    time_from = time_from or time_to - timedelta(days=30)
    database = settings.warehouse.database
    chosen = academies if academies is not None else academies_with_data(client, database)
    fr = French(school_labels(client, database))
    report = build(client, database, chosen, time_from, time_to, fr, settings.warehouse.min_group_size)
    out_dir = Path(out_dir)
    size = 0
    for page in report.pages:
        path = out_dir / page.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page.html, encoding="utf-8")
        size += len(page.html)
    log.info("report written to %s: %d page(s), %d bytes", out_dir, len(report.pages), size)
    return report
