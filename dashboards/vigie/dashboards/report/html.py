"""The report's page frame: style, breadcrumb up, links down, panels; no script or style is fetched."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape

from vigie.dashboards import charts
from vigie.dashboards.french import French
from vigie.dashboards.runner import PanelResult

STYLE = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;color:#1d1d1f;
background:#f5f6f8;font-size:14px}
header{background:#1f3a68;color:#fff;padding:14px 24px}header a{color:#cfe0ff}
nav.crumbs{font-size:13px;margin-bottom:6px}nav.crumbs a{text-decoration:none}
nav.crumbs span.sep{margin:0 6px;opacity:.6}
h1{margin:0;font-size:24px}main{padding:8px 24px 32px}
.meta{color:#555;margin:10px 0}.meta strong{color:#1d1d1f}
.children{background:#fff;border:1px solid #dde;border-radius:6px;padding:10px 14px;margin:12px 0}
.children h2{font-size:15px;margin:0 0 6px}.children ul{margin:0;padding:0;list-style:none;columns:2 320px}
.children li{padding:2px 0}.children .n{color:#666;font-size:12px}
.grid{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
.panel{background:#fff;border:1px solid #dde;border-radius:6px;padding:12px;overflow:auto;flex:1 1 560px;
max-width:100%}
.panel.wide{flex-basis:100%}
.panel h3{margin:0 0 4px;font-size:15px}.panel p.description{margin:0 0 8px;color:#555;font-size:12px}
.vigie-table{border-collapse:collapse;font-size:12px}
.vigie-table th,.vigie-table td{border:1px solid #dde;padding:3px 6px;text-align:left;vertical-align:top}
.vigie-table th{background:#eef2f8}.empty,.more{color:#777;font-style:italic}
details{margin-top:6px;font-size:11px;color:#666}pre{white-space:pre-wrap}
table.skills td.m{text-align:center;min-width:54px;font-variant-numeric:tabular-nums}
table.skills td.thin{font-style:italic;background-image:repeating-linear-gradient(45deg,transparent 0 6px,
rgba(255,255,255,.55) 6px 9px)}
table.skills th.skill{font-weight:normal;max-width:420px}table.skills th.pupil{font-family:monospace;font-size:11px}
table.skills td.none{background:#f7f7f7}
.legend{font-size:12px;color:#444;margin:6px 0}.legend span.box{display:inline-block;width:12px;height:12px;
vertical-align:middle;margin:0 3px 0 10px;border:1px solid #ccc}
footer{color:#777;font-size:12px;padding:0 24px 24px}
"""

# Runs in the viewer's browser only to count what rendered (tests read the marker); nothing is fetched.
SCRIPT = """
document.addEventListener('DOMContentLoaded', function () {
  var charts = document.querySelectorAll('svg.vigie-chart');
  var drawn = 0;
  charts.forEach(function (svg) { var box = svg.getBBox(); if (box.width > 0 && box.height > 0) { drawn++; } });
  document.body.setAttribute('data-charts-rendered', String(drawn));
  document.body.setAttribute('data-charts-total', String(charts.length));
  document.body.setAttribute('data-height', String(document.documentElement.scrollHeight));
});
"""


#: A whole pseudonym (32 hex digits) in a query shown to the reader: only its first 8 digits are printed.
_PSEUDONYM = re.compile(r"\b([0-9a-f]{8})[0-9a-f]{24}\b")


def shown_sql(sql: str) -> str:
    """The query as the reader sees it: pseudonyms cut to their prefix, as everywhere in the report."""
    return _PSEUDONYM.sub(r"\1…", sql)


@dataclass(frozen=True)
class Crumb:
    """One step of the way up: its title and the link to it from the current page (None: the page itself)."""

    title: str
    href: str | None


@dataclass(frozen=True)
class Child:
    title: str
    href: str
    note: str = ""


def panel(result: PanelResult, fr: French, link: charts.Linker | None = None) -> str:
    spec = result.panel
    labelled_bars = spec.kind == "barchart" and result.columns[:1] == ("skill_code",)  # long labels
    wide = spec.width >= 24 or spec.kind == "matrix" or "reasons" in result.columns or labelled_bars
    wide_class = " wide" if wide else ""
    description = f'<p class="description">{escape(spec.description)}</p>' if spec.description else ""
    return (
        f'<section class="panel{wide_class}" data-panel="{escape(spec.title)}" data-rows="{len(result.rows)}">'
        f"<h3>{escape(spec.title)}</h3>{description}{charts.render(result, fr, link)}"
        f"<details><summary>Requête SQL</summary><pre>{escape(shown_sql(result.sql))}</pre></details></section>"
    )


def section(title: str, body: str, rows: int, description: str = "", wide: bool = True) -> str:
    """A panel drawn by the report itself (the class grid), framed like the others."""
    text = f'<p class="description">{escape(description)}</p>' if description else ""
    return (
        f'<section class="panel{" wide" if wide else ""}" data-panel="{escape(title)}" data-rows="{rows}">'
        f"<h3>{escape(title)}</h3>{text}{body}</section>"
    )


def page(
    *,
    level: str,
    title: str,
    crumbs: list[Crumb],
    meta: str,
    children_title: str,
    children: list[Child],
    panels: list[str],
    footer: str,
) -> str:
    steps = []
    for crumb in crumbs:
        if crumb.href is None:
            steps.append(f"<span>{escape(crumb.title)}</span>")
        else:
            steps.append(f'<a href="{escape(crumb.href)}" data-up="{escape(crumb.href)}">{escape(crumb.title)}</a>')
    down = ""
    if children:
        items = "".join(
            f'<li><a href="{escape(c.href)}" data-down="{escape(c.href)}">{escape(c.title)}</a>'
            + (f' <span class="n">{escape(c.note)}</span>' if c.note else "")
            + "</li>"
            for c in children
        )
        down = f'<nav class="children"><h2>{escape(children_title)}</h2><ul>{items}</ul></nav>'
    return (
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Vigie — {escape(title)}</title><style>{STYLE}</style><script>{SCRIPT}</script></head>"
        f'<body data-level="{escape(level)}"><header><nav class="crumbs">'
        + '<span class="sep">›</span>'.join(steps)
        + f"</nav><h1>{escape(title)}</h1></header><main>"
        f'<p class="meta">{meta}</p>{down}<div class="grid">{"".join(panels)}</div></main>'
        f"<footer>{footer}</footer></body></html>"
    )
