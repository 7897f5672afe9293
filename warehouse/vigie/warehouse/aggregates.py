"""Materialized views and their targets, read from the engine itself: recompute a target's rows.

The SELECT of each materialized view is stored by ClickHouse (``system.tables.as_select``); running
it again over the source table, filtered, rebuilds exactly what the view would have written. This
serves two purposes without repeating any SQL: backfilling a new view from existing history, and
recomputing the aggregate rows of the classes an erased pupil belonged to.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from clickhouse_connect.driver.client import Client

log = logging.getLogger(__name__)

_TARGET = re.compile(r"\bTO\s+`?(\w+)`?\.`?(\w+)`?", re.I)


@dataclass(frozen=True, slots=True)
class MaterializedView:
    name: str
    target: str
    select: str


def materialized_views(client: Client, database: str) -> list[MaterializedView]:
    """Every materialized view of the database with the table it writes to."""
    rows = client.query(
        "SELECT name, as_select, create_table_query FROM system.tables"
        " WHERE database = {db:String} AND engine = 'MaterializedView' ORDER BY name",
        parameters={"db": database},
    ).result_rows
    found = []
    for name, select, create in rows:
        match = _TARGET.search(create)
        if match:
            found.append(MaterializedView(name, match[2], select))
    return found


def columns_of(client: Client, database: str, table: str) -> list[str]:
    return [
        r[0]
        for r in client.query(
            "SELECT name FROM system.columns WHERE database = {db:String} AND table = {t:String} ORDER BY position",
            parameters={"db": database, "t": table},
        ).result_rows
    ]


def recompute(client: Client, database: str, view: str, *, where: str | None, parameters: dict | None = None) -> int:
    """Insert into the view's target what its SELECT yields over the source now (filtered by ``where``,
    an expression on the SELECT's output columns). Returns the number of rows written."""
    found = {v.name: v for v in materialized_views(client, database)}
    if view not in found:
        raise KeyError(f"no materialized view {database}.{view}")
    mv = found[view]
    produced = [r[0] for r in client.query(f"DESCRIBE ({mv.select})").result_rows]
    target_columns = set(columns_of(client, database, mv.target))
    columns = ", ".join(f"`{c}`" for c in produced if c in target_columns)
    sql = f"INSERT INTO {database}.{mv.target} ({columns}) SELECT {columns} FROM ({mv.select})"
    if where:
        sql += f" WHERE {where}"
    summary = client.command(sql, parameters=parameters)
    written = written_rows(summary)
    log.log(
        logging.INFO if written else logging.DEBUG,
        "recomputed %s rows of %s.%s through %s",
        written,
        database,
        mv.target,
        view,
    )
    return written


def written_rows(summary: object) -> int:
    """Rows an INSERT wrote, from the client's summary (0 when it does not say)."""
    rows = getattr(summary, "written_rows", None)
    if rows is None and isinstance(summary, dict):
        rows = summary.get("written_rows")
    try:
        return int(rows) if rows is not None else 0
    except (TypeError, ValueError):
        return 0
