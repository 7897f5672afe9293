"""The offline HTML report of an academy: the dashboards' own queries, drawn as inline SVG.

For embedded mode (no Grafana): ``vigie report --academy lyon --out report.html`` writes one
self-contained page (no script or style fetched; works from a USB stick). It holds the academy
dashboard and the school dashboard of each of its schools, i.e. only the aggregate levels, which
read the warehouse's k-suppressed views; class pages stay with the teachers.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path

from clickhouse_connect.driver.client import Client

from vigie.core.settings import VigieSettings
from vigie.dashboards import charts, levels
from vigie.dashboards.model import DashboardSpec, PanelSpec
from vigie.dashboards.runner import PanelResult, run_dashboard, run_panel

log = logging.getLogger(__name__)

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#1d1d1f;background:#fafafa}
h1{margin:0 0 4px}h2{margin-top:32px;border-bottom:2px solid #3274d9;padding-bottom:4px}
.meta{color:#666}.grid{display:flex;flex-wrap:wrap;gap:16px}
.panel{background:#fff;border:1px solid #ddd;border-radius:6px;padding:12px;max-width:100%;overflow:auto}
.panel h3{margin:0 0 8px;font-size:15px}.vigie-table{border-collapse:collapse;font-size:12px}
.vigie-table th,.vigie-table td{border:1px solid #ddd;padding:3px 6px;text-align:left}
.vigie-table th{background:#f0f3f8}.empty,.more{color:#888;font-style:italic}
details{margin-top:6px;font-size:11px;color:#666}pre{white-space:pre-wrap}
"""

# Runs in the viewer's browser only to count what rendered (tests read the marker); nothing is fetched.
_SCRIPT = """
document.addEventListener('DOMContentLoaded', function () {
  var charts = document.querySelectorAll('svg.vigie-chart');
  var drawn = 0;
  charts.forEach(function (svg) { var box = svg.getBBox(); if (box.width > 0 && box.height > 0) { drawn++; } });
  document.body.setAttribute('data-charts-rendered', String(drawn));
  document.body.setAttribute('data-charts-total', String(charts.length));
});
"""


#: "Élèves à suivre" of each class of the school (the k-safe view: classes of at least k pupils).
PUPILS_TO_FOLLOW = PanelSpec(
    "Élèves à suivre (risque de décrochage, 5 premiers par classe)",
    "table",
    """SELECT substring(class_id, 1, 8) AS class, rank, pupil, severity, round(risk, 2) AS risk, reasons, since
FROM $database.v_class_pupils_to_follow
WHERE academy = '$academy' AND school_uai = '$school' AND rank <= 5
ORDER BY class, rank""",
    ("class", "rank", "pupil", "severity", "risk", "reasons", "since"),
    width=24,
)


def _panel_html(result: PanelResult) -> str:
    return (
        f'<section class="panel" data-panel="{escape(result.panel.title)}" data-rows="{len(result.rows)}">'
        f"<h3>{escape(result.panel.title)}</h3>{charts.render(result)}"
        f"<details><summary>Requête</summary><pre>{escape(result.sql)}</pre></details></section>"
    )


def _dashboard_html(spec: DashboardSpec, heading: str, results: list[PanelResult]) -> str:
    return f'<h2>{escape(heading)}</h2><p class="meta">{escape(spec.description)}</p>' + (
        '<div class="grid">' + "".join(_panel_html(r) for r in results) + "</div>"
    )


def render_report(
    client: Client, database: str, academy: str, time_from: datetime, time_to: datetime, max_schools: int = 10
) -> str:
    """The report's HTML for one academy."""
    sections = []
    spec = levels.academy()
    ctx, results = run_dashboard(client, spec, database, time_from, time_to, {"academy": academy})
    if academy not in ctx.variables["academy"].options:
        log.warning("academy %s has no data in %s between %s and %s", academy, database, time_from, time_to)
    sections.append(_dashboard_html(spec, f"Académie : {academy}", results))
    school_spec = levels.school()
    schools = ctx.variables["school"].options[:max_schools]
    for school in schools:
        school_ctx, school_results = run_dashboard(
            client, school_spec, database, time_from, time_to, {"academy": academy, "school": school}
        )
        school_results.append(run_panel(client, PUPILS_TO_FOLLOW, school_ctx))
        sections.append(_dashboard_html(school_spec, f"École / établissement {school}", school_results))
    period = f"du {time_from:%d/%m/%Y} au {time_to:%d/%m/%Y}"
    return (
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">'
        f"<title>Vigie — rapport {escape(academy)}</title><style>{_STYLE}</style>"
        f"<script>{_SCRIPT}</script></head><body>"
        f"<h1>Vigie — rapport de l'académie {escape(academy)}</h1>"
        f'<p class="meta">Période {period} · généré le {datetime.now(UTC):%d/%m/%Y %H:%M} UTC · '
        "les groupes de moins de k élèves sont masqués par l'entrepôt.</p>" + "".join(sections) + "</body></html>"
    )


def write_report(
    settings: VigieSettings,
    client: Client,
    academy: str,
    out_path: Path,
    time_from: datetime | None = None,
    time_to: datetime | None = None,
) -> Path:
    """Write the academy's self-contained HTML report to ``out_path`` (default period: the last 30 days)."""
    time_to = time_to or datetime.now(UTC)
    time_from = time_from or time_to - timedelta(days=30)
    html = render_report(client, settings.warehouse.database, academy, time_from, time_to)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(html, encoding="utf-8")
    log.info("report of %s written to %s (%d bytes)", academy, out_path, len(html))
    return out_path
