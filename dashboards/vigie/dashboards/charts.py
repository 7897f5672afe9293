"""Inline SVG charts and HTML tables of panel results, drawn in Python: the report needs no network to be read.

Each chart is an ``<svg class="vigie-chart">``; values are escaped; every header, legend and label
goes through ``French`` (labels, names beside codes, "72 %"); colours follow the dashboards'
thresholds (red < 0.5 ≤ orange < 0.8 ≤ green) for mastery-like values.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from html import escape
from typing import Any

from vigie.dashboards.french import HIDDEN, French, short_day
from vigie.dashboards.geo import academy_positions
from vigie.dashboards.runner import PanelResult

PALETTE = ("#3274d9", "#e0752d", "#37872d", "#a352cc", "#c4162a", "#1f9a9a", "#8f6e00", "#5c5c5c")
#: A link target for a cell (column, value), or None: how the report links a row to a lower level.
Linker = Callable[[str, Any], str | None]


def _num(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float) and not (isinstance(value, float) and math.isnan(value)):
        return float(value)
    return None


def _clip(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def _group_size(fr: French, result: PanelResult, row: tuple[Any, ...]) -> str:
    for name in ("group_size", "pupils"):
        if name in result.columns:
            return f"{fr.cell(name, row[result.columns.index(name)])} élèves"
    return ""


def mastery_colour(value: float | None) -> str:
    if value is None:
        return "#eeeeee"
    return "#f2495c" if value < 0.5 else "#ff9830" if value < 0.8 else "#73bf69"


def _svg(width: int, height: int, body: str, kind: str) -> str:
    return (
        f'<svg class="vigie-chart" data-kind="{kind}" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" style="max-width:100%;height:auto" role="img">{body}</svg>'
    )


def table(result: PanelResult, fr: French, link: Linker | None = None, limit: int = 40) -> str:
    shown = [i for i, c in enumerate(result.columns) if c not in HIDDEN]
    head = "".join(f"<th>{escape(fr.column(result.columns[i]))}</th>" for i in shown)
    body = []
    for row in result.rows[:limit]:
        cells = []
        for i in shown:
            column = result.columns[i]
            text = escape(fr.cell(column, row[i]))
            target = link(column, row[i]) if link else None
            cells.append(f'<td><a href="{escape(target)}">{text}</a></td>' if target else f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = f'<p class="more">… et {len(result.rows) - limit} lignes de plus</p>' if len(result.rows) > limit else ""
    return f'<table class="vigie-table"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>{more}'


def bars(result: PanelResult, fr: French) -> str:
    """Horizontal bars: first column labels, first numeric column values, group size beside each bar."""
    numeric = [i for i in range(1, len(result.columns)) if _num(result.rows[0][i]) is not None]
    value_col = numeric[0] if numeric else 1
    label_col, value_name = result.columns[0], result.columns[value_col]
    rows = [(fr.label(label_col, r[0]), _num(r[value_col]) or 0.0, r) for r in result.rows[:25]]
    top = max((v for _, v, _ in rows), default=1.0) or 1.0
    clip = 48
    left = 12 + int(7.2 * min(clip, max((len(label) for label, _, _ in rows), default=10)))
    width, bar_h = left + 420, 22
    body = [
        f'<text x="{left}" y="12" font-size="11" fill="#555">{escape(fr.column(value_name))}</text>',
    ]
    for i, (label, value, row) in enumerate(rows):
        y = 20 + i * (bar_h + 6)
        w = max(1.0, 260 * value / top)
        size = _group_size(fr, result, row)
        text = fr.cell(value_name, row[value_col]) + (f" ({size})" if size and value_name != "group_size" else "")
        body.append(
            f'<text x="{left - 6}" y="{y + 15}" text-anchor="end" font-size="12">{escape(_clip(label, clip))}'
            f"<title>{escape(label)}</title></text>"
            f'<rect class="bar" x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{PALETTE[0]}"/>'
            f'<text x="{left + w + 4:.1f}" y="{y + 15}" font-size="12">{escape(text)}</text>'
        )
    return _svg(width, 30 + len(rows) * (bar_h + 6), "".join(body), "barchart")


def lines(result: PanelResult, fr: French) -> str:
    """Time series: first column time, optional string column = series, last numeric column = value."""
    t_index = result.columns.index(result.panel.time_column)
    label_index = next((i for i, ty in enumerate(result.types) if "String" in ty), None)
    numeric = [i for i, ty in enumerate(result.types) if any(k in ty for k in ("Int", "Float", "Decimal"))]
    series: dict[str, list[tuple[datetime, float]]] = defaultdict(list)
    for row in result.rows:
        if label_index is not None:  # long format: one series per label, the last numeric column
            value = _num(row[numeric[-1]])
            if value is not None:
                series[fr.label(result.columns[label_index], row[label_index])].append((row[t_index], value))
            continue
        for i in numeric:  # wide format: one series per numeric column
            value = _num(row[i])
            if value is not None:
                series[fr.column(result.columns[i])].append((row[t_index], value))
    width, height, left, bottom, top_pad, legend = 700, 260, 50, 40, 14, 190
    times = [t for points in series.values() for t, _ in points]
    values = [v for points in series.values() for _, v in points]
    if not times:
        return _svg(width, 40, '<text x="10" y="25">Aucune donnée</text>', "timeseries")
    t0, t1 = min(times).timestamp(), max(times).timestamp()
    vmax = max(values) or 1.0
    span = (t1 - t0) or 1.0
    right = width - legend

    def xy(t: datetime, v: float) -> tuple[float, float]:
        return (
            left + (right - left) * (t.timestamp() - t0) / span,
            height - bottom - (height - bottom - top_pad) * v / vmax,
        )

    body = [
        f'<line x1="{left}" y1="{height - bottom}" x2="{right}" y2="{height - bottom}" stroke="#888"/>',
        f'<line x1="{left}" y1="{top_pad}" x2="{left}" y2="{height - bottom}" stroke="#888"/>',
        f'<text x="{left - 4}" y="{top_pad + 4}" text-anchor="end" font-size="11">{escape(fr.cell("", vmax))}</text>',
        f'<text x="{left - 4}" y="{height - bottom}" text-anchor="end" font-size="11">0</text>',
        f'<text x="{left}" y="{height - bottom + 16}" font-size="11">{escape(short_day(min(times)))}</text>',
        f'<text x="{right}" y="{height - bottom + 16}" text-anchor="end" font-size="11">'
        f"{escape(short_day(max(times)))}</text>",
    ]
    for n, (name, points) in enumerate(sorted(series.items())[:8]):
        colour = PALETTE[n % len(PALETTE)]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(t, v) for t, v in sorted(points)))
        body.append(f'<polyline class="series" fill="none" stroke="{colour}" stroke-width="2" points="{path}"/>')
        body.append(
            f'<rect x="{right + 12}" y="{top_pad + n * 18}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{right + 27}" y="{top_pad + 9 + n * 18}" font-size="11">{escape(_clip(name, 28))}'
            f"<title>{escape(name)}</title></text>"
        )
    return _svg(width, height, "".join(body), "timeseries")


def matrix(result: PanelResult, fr: French) -> str:
    """A grid coloured by mastery; row and column labels are names (skills: code, label in the tooltip)."""
    spec = result.panel.matrix
    assert spec is not None
    ri, ci, vi = (result.columns.index(c) for c in (spec.row, spec.column, spec.value))
    rows = sorted({str(r[ri]) for r in result.rows})
    cols = sorted({str(r[ci]) for r in result.rows})
    cells = {(str(r[ri]), str(r[ci])): _num(r[vi]) for r in result.rows}

    def short(column: str, value: str) -> str:
        return _clip(fr.label(column, value), 60 if column == "skill_code" else 40)

    row_labels = {r: short(spec.row, r) for r in rows}
    col_labels = {c: short(spec.column, c) for c in cols}
    cell = 40
    left = 16 + int(6.4 * max((len(t) for t in row_labels.values()), default=8))
    top = 20 + int(5.5 * max((len(t) for t in col_labels.values()), default=8))
    width, height = left + cell * len(cols) + 10 + top // 2, top + cell * len(rows) + 10
    body = []
    for j, col in enumerate(cols):
        x = left + j * cell + cell / 2
        body.append(
            f'<text transform="translate({x:.0f},{top - 6}) rotate(-60)" font-size="11">{escape(col_labels[col])}'
            f"<title>{escape(fr.label(spec.column, col))}</title></text>"
        )
    for i, row in enumerate(rows):
        y = top + i * cell
        body.append(
            f'<text x="{left - 6}" y="{y + cell / 2 + 4:.0f}" text-anchor="end" font-size="11">'
            f"{escape(row_labels[row])}<title>{escape(fr.label(spec.row, row))}</title></text>"
        )
        for j, col in enumerate(cols):
            value = cells.get((row, col))
            shown = fr.cell(spec.value, value) if value is not None else ""
            body.append(
                f'<rect class="cell" x="{left + j * cell}" y="{y}" width="{cell - 2}" height="{cell - 2}" '
                f'fill="{mastery_colour(value)}"><title>{escape(fr.label(spec.row, row))} × '
                f"{escape(fr.label(spec.column, col))} : {escape(shown or '–')}</title></rect>"
                f'<text x="{left + j * cell + cell / 2 - 1:.0f}" y="{y + cell / 2 + 4:.0f}" '
                f'text-anchor="middle" font-size="10">{escape(shown)}</text>'
            )
    return _svg(width, height, "".join(body), "matrix")


def geomap(result: PanelResult, fr: French) -> str:
    """Academies as circles on an equirectangular view of metropolitan France (overseas listed aside)."""
    ai = result.columns.index("academy")
    size_i = (
        next(
            i
            for i, c in enumerate(result.columns)
            if c not in ("academy", "latitude", "longitude") and _num(result.rows[0][i]) is not None
        )
        if result.rows
        else None
    )
    width, height = 460, 440  # the map; labels of the easternmost academies run into a margin on its right
    lon0, lon1, lat0, lat1 = -5.5, 10.0, 41.0, 51.5
    biggest = max((_num(r[size_i]) or 0.0 for r in result.rows), default=1.0) if size_i is not None else 1.0
    body = [f'<rect x="0" y="0" width="{width}" height="{height}" fill="#f4f7fb" stroke="#ccd"/>']
    for code, (lat, lon) in academy_positions().items():
        if lon0 <= lon <= lon1 and lat0 <= lat <= lat1:
            x, y = (lon - lon0) / (lon1 - lon0) * width, (lat1 - lat) / (lat1 - lat0) * height
            name = escape(fr.academy(code))
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2" fill="#bbb"><title>{name}</title></circle>')
    overseas = 0
    for row in result.rows:
        lat, lon = academy_positions().get(str(row[ai]), (math.nan, math.nan))
        size = (_num(row[size_i]) or 0.0) if size_i is not None else 1.0
        r = 6 + 18 * math.sqrt(size / (biggest or 1.0))
        label = f"{fr.academy(str(row[ai]))} : {fr.cell('pupils', int(size))} élèves"
        if lon0 <= lon <= lon1 and lat0 <= lat <= lat1:
            x, y = (lon - lon0) / (lon1 - lon0) * width, (lat1 - lat) / (lat1 - lat0) * height
        else:
            x, y = 30, height - 30 - overseas * 40
            overseas += 1
        body.append(
            f'<circle class="academy" cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{PALETTE[0]}" '
            f'fill-opacity="0.6" stroke="#1f4e9a"><title>{escape(label)}</title></circle>'
            f'<text x="{x + r + 3:.1f}" y="{y + 4:.1f}" font-size="12">{escape(label)}</text>'
        )
    return _svg(width + 140, height, "".join(body), "geomap")


def stat(result: PanelResult, fr: French) -> str:
    """The last column of the first row, large, with the group size under it."""
    row = result.rows[0]
    value = fr.cell(result.columns[-1], row[-1])
    size = _group_size(fr, result, row)
    return _svg(
        260,
        110,
        f'<text class="stat" x="130" y="60" text-anchor="middle" font-size="40" fill="{PALETTE[0]}">'
        f"{escape(value)}</text>"
        f'<text x="130" y="92" text-anchor="middle" font-size="13" fill="#555">'
        f"{escape(('sur ' + size) if size else '')}</text>",
        "stat",
    )


def render(result: PanelResult, fr: French, link: Linker | None = None) -> str:
    """The HTML of one panel's result: a chart (SVG), plus the table of values where it helps."""
    kind = result.panel.kind
    if not result.rows:
        return '<p class="empty">Aucune donnée (ou groupe trop petit pour être affiché).</p>'
    if kind == "timeseries":
        return lines(result, fr)
    if kind in ("barchart", "piechart"):
        return bars(result, fr)
    if kind == "matrix":
        return matrix(result, fr)
    if kind == "geomap":
        return geomap(result, fr)
    if kind == "stat":
        return stat(result, fr)
    return table(result, fr, link)
