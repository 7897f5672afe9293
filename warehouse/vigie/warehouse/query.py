"""Run an analyst's query on the configured warehouse: a rich table on screen, or CSV/Parquet files."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Literal

import pyarrow as pa
from clickhouse_connect.driver.client import Client

from vigie.core.errors import ConfigurationError

Format = Literal["table", "csv", "parquet"]
_READING = re.compile(r"^\s*(?:--[^\n]*\n\s*)*(SELECT|WITH|SHOW|DESCRIBE|DESC|EXPLAIN|EXISTS)\b", re.I)


def run_query(client: Client, sql: str, *, server: bool) -> pa.Table:
    """The result of a reading query as an Arrow table (typed columns: what CSV and Parquet want).

    Only reading statements are accepted. On a server the query also runs with ``readonly = 2``; the
    embedded engine keeps settings for the whole process, so there the statement check is the guard.
    """
    if not _READING.match(sql):
        raise ConfigurationError("`vigie sql` runs reading queries only (SELECT, WITH, SHOW, DESCRIBE, EXPLAIN)")
    table = client.query_arrow(sql, settings={"readonly": 2} if server else None)
    return _plain(table)


def _plain(table: pa.Table) -> pa.Table:
    """UUID columns (an Arrow extension type the CSV writer refuses) become their text form."""
    columns = []
    for column in table.columns:
        if isinstance(column.type, pa.BaseExtensionType):
            storage = column.combine_chunks().storage
            texts = [None if v is None else str(uuid.UUID(bytes=v)) for v in storage.to_pylist()]
            column = pa.array(texts, pa.string())
        columns.append(column)
    return pa.Table.from_arrays(columns, names=table.column_names)


def write(table: pa.Table, fmt: Format, out: Path) -> None:
    if fmt == "csv":
        import pyarrow.csv as csv

        csv.write_csv(table, out)
    elif fmt == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, out)
    else:
        raise ValueError(f"cannot write format {fmt!r} to a file")


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
