"""The warehouse at a glance: rows per table and the last insert (what ``vigie status`` prints)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from clickhouse_connect.driver.client import Client

#: The tables the sink writes (with their ``ingested_at``), in the order of the data flow.
SINK_TABLES = ("answers", "session_events", "mastery_updates", "signals", "skill_parameters", "dead_letters")


@dataclass(frozen=True)
class TableHealth:
    table: str
    rows: int
    last_insert: datetime | None


def table_health(client: Client, database: str) -> list[TableHealth]:
    """Rows and newest ``ingested_at`` of each sink table present in ``database`` (cheap: parts metadata)."""
    present = {
        row[0]
        for row in client.query(
            "SELECT name FROM system.tables WHERE database = {db:String}", parameters={"db": database}
        ).result_rows
    }
    health = []
    for table in SINK_TABLES:
        if table not in present:
            continue
        rows, last = client.query(f"SELECT count(), max(ingested_at) FROM {database}.{table}").result_rows[0]
        health.append(TableHealth(table, int(rows), last if rows else None))
    return health
