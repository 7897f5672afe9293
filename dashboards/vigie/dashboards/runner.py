"""Run a dashboard's queries against the warehouse the way Grafana would, without Grafana.

Variables are resolved in order (each one's query sees the ones before: academy → school →
class), every panel's SQL is expanded with the plugin's macros (``macros.expand``) and run.
The HTML report and the offline tests both go through here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from clickhouse_connect.driver.client import Client

from vigie.dashboards.macros import ALL, QueryContext, VariableState, expand
from vigie.dashboards.model import DashboardSpec, PanelSpec

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PanelResult:
    panel: PanelSpec
    sql: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    types: tuple[str, ...]


def resolve_variables(
    client: Client,
    spec: DashboardSpec,
    database: str,
    time_from: datetime,
    time_to: datetime,
    chosen: dict[str, str] | None = None,
) -> QueryContext:
    """Run each variable's query in order; pick ``chosen[name]``, else All (include-all) or the first option."""
    chosen = chosen or {}
    variables = {"database": VariableState((database,))}
    for var in spec.variables:
        ctx = QueryContext(time_from, time_to, 86_400, dict(variables))
        options = tuple(str(row[0]) for row in client.query(expand(var.sql, ctx)).result_rows)
        if var.name in chosen:
            values: tuple[str, ...] = (chosen[var.name],)
        elif var.include_all:
            values = (ALL,)
        else:
            values = options[:1]
        variables[var.name] = VariableState(values, options, var.multi, var.include_all)
    return QueryContext(time_from, time_to, 86_400, variables)


def run_panel(client: Client, panel: PanelSpec, ctx: QueryContext) -> PanelResult:
    sql = expand(panel.sql, ctx)
    result = client.query(sql)
    types = tuple(t.name for t in result.column_types)
    return PanelResult(panel, sql, tuple(result.column_names), [tuple(row) for row in result.result_rows], types)


def run_dashboard(
    client: Client,
    spec: DashboardSpec,
    database: str,
    time_from: datetime,
    time_to: datetime,
    chosen: dict[str, str] | None = None,
) -> tuple[QueryContext, list[PanelResult]]:
    ctx = resolve_variables(client, spec, database, time_from, time_to, chosen)
    return ctx, [run_panel(client, panel, ctx) for panel in spec.panels]
