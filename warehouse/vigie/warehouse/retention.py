"""Retention of the history: every table has a TTL; change it on existing tables in place.

Migrations create tables with ``settings.warehouse.retention_days``; changing the setting later does
not touch existing tables, ``set_retention`` does (``ALTER TABLE ... MODIFY TTL``, keeping each
table's own time expression, and waiting for the TTL to be applied to existing parts).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from clickhouse_connect.driver.client import Client

from vigie.core.errors import ConfigurationError

log = logging.getLogger(__name__)

#: The migrations' own bookkeeping: no pupil data, and must never expire.
EXEMPT = frozenset({"schema_migrations", "schema_views"})
_TTL = re.compile(r"\bTTL\s+(?P<expr>.+?)\s*\+\s*toIntervalDay\((?P<days>\d+)\)")


@dataclass(frozen=True, slots=True)
class TableRetention:
    table: str
    expression: str | None
    days: int | None


def retention(client: Client, database: str) -> list[TableRetention]:
    """The TTL of every table (MergeTree family) of the database; ``None`` where a table has none."""
    rows = client.query(
        "SELECT name, engine_full FROM system.tables WHERE database = {db:String} AND engine LIKE '%MergeTree'"
        " ORDER BY name",
        parameters={"db": database},
    ).result_rows
    found = []
    for name, engine_full in rows:
        if name in EXEMPT:
            continue
        match = _TTL.search(engine_full)
        found.append(TableRetention(name, match["expr"] if match else None, int(match["days"]) if match else None))
    return found


def set_retention(client: Client, database: str, days: int) -> list[tuple[str, int | None, int]]:
    """Set every table's TTL to ``days``; returns (table, old days, new days) for each table changed."""
    if days < 1:
        raise ConfigurationError("retention must be at least 1 day")
    changed = []
    for current in retention(client, database):
        if current.expression is None:
            raise ConfigurationError(f"{database}.{current.table} has no TTL: add one in a migration first")
        if current.days == days:
            continue
        client.command(
            f"ALTER TABLE {database}.{current.table} MODIFY TTL {current.expression} + INTERVAL {days} DAY",
            settings={"mutations_sync": 2},
        )
        log.info("retention of %s.%s: %s -> %s days", database, current.table, current.days, days)
        changed.append((current.table, current.days, days))
    return changed
