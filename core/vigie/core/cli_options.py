"""The command line's one vocabulary: the output formats of data commands, and options kept under an old name.

Every part's ``cli.py`` takes these from here, so that ``--format`` means the same thing and offers the same
values wherever a command prints data (docs/cli.md lists the vocabulary, tests/unit/test_cli_vocabulary.py
checks it over the whole command tree). Data goes to stdout (or ``--out``); messages go to stderr.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Sequence
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

import typer

from vigie.core.errors import UsageError

T = TypeVar("T")


class OutputFormat(StrEnum):
    """``--format`` of a command whose output is rows: every format of the vocabulary."""

    table = "table"
    json = "json"
    csv = "csv"
    parquet = "parquet"


class ReportFormat(StrEnum):
    """``--format`` of a command whose output is a nested report (not rows): on screen, or one JSON object."""

    table = "table"
    json = "json"


#: The help of every ``--format`` option (one wording, so ``--help`` reads the same everywhere).
FORMAT_HELP = "table (on screen), json, csv or parquet (parquet needs --out)."
REPORT_FORMAT_HELP = "table (on screen) or json (one object on stdout)."


def renamed(old: str, new: str) -> Any:
    """A hidden option under its former name: it still works for one release and warns on stderr.

    Pair it with :func:`take_renamed` in the command's body (the value given under the old name wins).
    """
    return typer.Option(None, old, hidden=True, help=f"Deprecated spelling of {new}.")


def take_renamed(old_value: T | None, value: T, old: str, new: str) -> T:
    """The option's value, whether given as ``new`` or under its former name ``old`` (which warns once)."""
    if old_value is None:
        return value
    typer.echo(f"warning: {old} is deprecated and goes in the next release; use {new}", err=True)
    return old_value


def json_value(value: Any) -> Any:
    """What :func:`json.dumps` cannot write itself: times as ISO text, decimals and bytes as text."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value.hex()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def check_output(fmt: OutputFormat | ReportFormat, out: Path | None) -> None:
    """Refuse, before any work, the pairs that cannot be written: a screen table into a file, Parquet on stdout."""
    if fmt.value == "parquet" and out is None:
        raise typer.BadParameter("--format parquet writes a binary file: give --out FILE", param_hint="--out")
    if fmt.value == "table" and out is not None:
        raise typer.BadParameter("--format table is for the screen: use csv, json or parquet with --out")


def emit_rows(
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    fmt: OutputFormat,
    out: Path | None = None,
    *,
    width: int | None = None,
) -> None:
    """Rows in the asked format: a rich table, a JSON array of objects, CSV or Parquet; to stdout or ``out``."""
    check_output(fmt, out)
    records = [dict(zip(columns, row, strict=True)) for row in rows]
    if fmt is OutputFormat.parquet and out is not None:
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:  # a base install: pyarrow comes with vigie[warehouse]
            raise UsageError("--format parquet needs pyarrow (pip install 'vigie[warehouse]')") from None
        pq.write_table(pa.Table.from_pylist(records) if records else pa.table({c: [] for c in columns}), out)
        typer.echo(f"{len(records)} row(s) written to {out}", err=True)
        return
    if fmt is OutputFormat.table:
        from rich.console import Console
        from rich.table import Table

        view = Table(*columns)
        for record in records:
            view.add_row(*("" if v is None else str(v) for v in record.values()))
        Console(width=width).print(view)
        return
    text = _json_text(records) if fmt is OutputFormat.json else _csv_text(columns, records)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"{len(records)} row(s) written to {out}", err=True)


def _json_text(records: list[dict[str, Any]]) -> str:
    return json.dumps(records, ensure_ascii=False, default=json_value) + "\n"


def _csv_text(columns: Sequence[str], records: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({k: _csv_cell(v) for k, v in record.items()})
    return buffer.getvalue()


def _csv_cell(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, default=json_value)
    return json_value(value)
