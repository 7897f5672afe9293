"""Run an analyst's query on the configured warehouse: a rich table on screen, JSON, CSV or Parquet.

Two locks, so that the analyst path cannot be talked into writing. The text is checked first
(``vigie.warehouse.sqlguard``: one reading statement, no host-touching function, no INTO OUTFILE, no
SETTINGS relaxing the guard); then the engine runs it with ``readonly = 1``, which refuses any write,
DDL, table function and change of ``readonly`` itself whatever slipped past the text check.

On a server, give analysts a user that is read-only by itself (``vigie warehouse access-sql`` creates
it with ``SETTINGS readonly = 1``): the query's own setting is then already in force and is not sent.
The embedded engine keeps a setting for the rest of the process: a ``vigie sql`` process becomes
read-only for good, which is what it should be; an in-process caller that still needs to write
(a test, the demo) passes ``engine_readonly=False`` and keeps only the text check.
"""

from __future__ import annotations

import json
import re
import sys
import uuid
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
from clickhouse_connect.driver.client import Client

from vigie.warehouse.sqlguard import check_reading, refused_functions

Format = Literal["table", "json", "csv", "parquet"]


def read_only_settings(client: Client) -> dict[str, Any]:
    """``readonly = 1`` unless the session is read-only already (then changing it would be refused).

    Not 2: with ``readonly = 2`` ClickHouse still runs table functions (measured: ``file(…)`` read a file).
    """
    current = client.server_settings.get("readonly") if hasattr(client, "server_settings") else None
    if current is not None and str(getattr(current, "value", "0")) != "0":
        return {}
    return {"readonly": 1}


def check(client: Client, sql: str) -> None:
    """The text check, with the engine's own list of table functions (a new one is refused by default)."""
    names = [r[0] for r in client.query("SELECT name FROM system.table_functions").result_rows]
    check_reading(sql, refused_functions(names))


def run_query(client: Client, sql: str, *, engine_readonly: bool = True) -> pa.Table:
    """The result of one reading query as an Arrow table (typed columns: what CSV and Parquet want)."""
    check(client, sql)
    settings = read_only_settings(client) if engine_readonly else None
    table = client.query_arrow(sql, settings=settings)
    types: dict[str, str] = {}
    if any(pa.types.is_uint32(column.type) for column in table.columns):
        # ClickHouse's Arrow output gives a DateTime as its Unix seconds (UInt32): its type tells them apart.
        types = {r[0]: r[1] for r in client.query(f"DESCRIBE ({sql})", settings=settings).result_rows}
    return _plain(table, types)


_DATETIME = re.compile(r"^(?:Nullable\()?DateTime(?:\('([^']+)'\))?\)?$")


def _plain(table: pa.Table, types: dict[str, str] | None = None) -> pa.Table:
    """Columns as a person and a CSV reader expect them: UUIDs (an Arrow extension type the CSV writer
    refuses) as text, a DateTime as a timestamp (not Unix seconds), and binary values (aggregate states,
    bytes) as text when they are UTF-8, else as hexadecimal (the CSV writer refuses invalid UTF-8)."""
    types = types or {}
    columns = []
    for name, column in zip(table.column_names, table.columns, strict=True):
        if isinstance(column.type, pa.BaseExtensionType):
            storage = column.combine_chunks().storage
            texts = [None if v is None else str(uuid.UUID(bytes=v)) for v in storage.to_pylist()]
            column = pa.array(texts, pa.string())
        elif pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type):
            column = pa.array([None if v is None else _text(v) for v in column.to_pylist()], pa.string())
        elif pa.types.is_uint32(column.type) and (found := _DATETIME.match(types.get(name, ""))):
            column = column.cast(pa.int64()).cast(pa.timestamp("s", tz=found.group(1) or "UTC"))
        columns.append(column)
    return pa.Table.from_arrays(columns, names=table.column_names)


def _text(value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.hex()


def write(table: pa.Table, fmt: Format | str, out: Path | None) -> None:
    """The whole result as JSON (an array of objects), CSV or Parquet, into ``out`` or onto stdout.

    Parquet is binary: it needs a file. JSON and CSV go to stdout when ``out`` is None (data on stdout).
    """
    if fmt == "json":
        from vigie.core.cli_options import json_value

        text = json.dumps(table.to_pylist(), ensure_ascii=False, default=json_value) + "\n"
        if out is None:
            sys.stdout.write(text)
            sys.stdout.flush()
        else:
            out.write_text(text, encoding="utf-8")
    elif fmt == "csv":
        import pyarrow.csv as csv

        if out is None:
            sys.stdout.flush()
            csv.write_csv(table, sys.stdout.buffer)
            sys.stdout.buffer.flush()
        else:
            csv.write_csv(table, out)
    elif fmt == "parquet" and out is not None:
        import pyarrow.parquet as pq

        pq.write_table(table, out)
    else:
        raise ValueError(f"cannot write format {fmt!r} {'to a file' if out else 'to stdout'}")


def render(table: pa.Table, max_rows: int = 200):
    """A rich Table of the first ``max_rows`` rows."""
    from rich.table import Table

    shown = table.slice(0, max_rows)
    view = Table(
        *table.column_names,
        caption=None
        if table.num_rows <= max_rows
        else f"{max_rows} of {table.num_rows} rows shown; use --format csv --out FILE for all",
    )
    for row in shown.to_pylist():
        view.add_row(*("" if v is None else str(v) for v in row.values()))
    return view
