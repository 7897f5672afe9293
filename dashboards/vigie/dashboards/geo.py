"""Where each academy sits on the map (its rectorate), from ``academies.csv``.

Grafana's geomap needs latitude/longitude columns in the query result; ClickHouse does not know
them, so the panel SQL carries them as a ``transform()`` generated from this file.
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources


@cache
def academy_positions() -> dict[str, tuple[float, float]]:
    text = resources.files("vigie.dashboards").joinpath("academies.csv").read_text(encoding="utf-8")
    return {
        row["academy"]: (float(row["latitude"]), float(row["longitude"])) for row in csv.DictReader(text.splitlines())
    }


def position_sql(column: str, axis: str) -> str:
    """A ClickHouse expression giving the latitude or longitude of ``column`` (an academy code)."""
    index = {"latitude": 0, "longitude": 1}[axis]
    codes = ", ".join(f"'{code}'" for code in academy_positions())
    values = ", ".join(f"{pos[index]:.4f}" for pos in academy_positions().values())
    return f"transform({column}, [{codes}], [{values}], nan)"
