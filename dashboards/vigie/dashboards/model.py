"""A small description of Vigie's dashboards, independent of Grafana.

One ``DashboardSpec`` per level (national, academy, school, class). The Grafana JSON is built
from it with the foundation SDK (``vigie.dashboards.grafana``), the offline HTML report renders
the same panels (``vigie.dashboards.report``), and the offline tests run each panel's SQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

PanelKind = Literal["timeseries", "table", "barchart", "stat", "geomap", "matrix", "piechart"]
DashboardLevel = Literal["national", "academy", "school", "class"]


@dataclass(frozen=True)
class VariableSpec:
    """A dashboard variable filled by a ClickHouse query; may depend on earlier variables."""

    name: str
    label: str
    sql: str
    multi: bool = False
    include_all: bool = False


@dataclass(frozen=True)
class Matrix:
    """A grid (rows x columns, coloured by value) built from a long result (row, column, value)."""

    row: str
    column: str
    value: str


@dataclass(frozen=True)
class LinkSpec:
    """A drill-down link to a lower level, keeping the chosen variables."""

    title: str
    dashboard_uid: str


@dataclass(frozen=True)
class PanelSpec:
    title: str
    kind: PanelKind
    sql: str
    columns: tuple[str, ...]
    description: str = ""
    width: int = 12
    height: int = 8
    unit: str | None = None
    matrix: Matrix | None = None
    links: tuple[LinkSpec, ...] = ()
    time_column: str = "t"

    @property
    def is_time_series(self) -> bool:
        return self.kind == "timeseries"


@dataclass(frozen=True)
class DashboardSpec:
    uid: str
    title: str
    level: DashboardLevel
    description: str
    variables: tuple[VariableSpec, ...]
    panels: tuple[PanelSpec, ...]
    links: tuple[LinkSpec, ...] = ()
    tags: tuple[str, ...] = field(default=("vigie",))
    #: True when every panel reads only k-suppressed views (all levels above the class).
    aggregate: bool = True
