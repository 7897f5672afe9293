"""Values on the wire between the warehouse's owner and a client in another process: typed JSON.

Rows keep the Python types clickhouse-connect gives them (UUID, aware datetimes, Decimal, bytes...), so a
result read through the owner equals one read directly. JSON, never pickle: the client reads whatever
listens on the port named in the endpoint file, and a stale file must not let another program run code.
Arrow results (``query_arrow``) travel as Arrow IPC streams instead.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import uuid
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import pyarrow as pa

_TAG = "$v"


def encode(value: Any) -> Any:
    """``value`` as plain JSON data; types JSON lacks become ``{"$v": kind, "x": text}``."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, tuple):
        return {_TAG: "tuple", "x": [encode(v) for v in value]}
    if isinstance(value, dict):
        return {_TAG: "map", "x": [[encode(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, uuid.UUID):
        return {_TAG: "uuid", "x": str(value)}
    if isinstance(value, dt.datetime):
        return {_TAG: "datetime", "x": value.isoformat()}
    if isinstance(value, dt.date):
        return {_TAG: "date", "x": value.isoformat()}
    if isinstance(value, Decimal):
        return {_TAG: "decimal", "x": str(value)}
    if isinstance(value, bytes | bytearray):
        return {_TAG: "bytes", "x": base64.b64encode(value).decode()}
    if isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return {_TAG: "ip", "x": str(value)}
    raise TypeError(f"cannot send a {type(value).__name__} to the warehouse's owner")


_DECODERS: dict[str, Callable[[str], Any]] = {
    "uuid": uuid.UUID,
    "datetime": dt.datetime.fromisoformat,
    "date": dt.date.fromisoformat,
    "decimal": Decimal,
    "bytes": base64.b64decode,
    "ip": ipaddress.ip_address,
}


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        kind = value.get(_TAG)
        if kind == "map":
            return {decode(k): decode(v) for k, v in value["x"]}
        if kind == "tuple":
            return tuple(decode(v) for v in value["x"])
        if kind in _DECODERS:
            return _DECODERS[kind](value["x"])
        raise ValueError(f"unknown value kind {kind!r} from the warehouse's owner")
    return value


_PLAIN = (str, int, float, bool, type(None))
_COLUMN_KINDS: dict[type, tuple[str, Callable[[Any], str]]] = {
    uuid.UUID: ("uuid", str),
    dt.datetime: ("datetime", dt.datetime.isoformat),
    dt.date: ("date", dt.date.isoformat),
    Decimal: ("decimal", str),
}


def encode_rows(rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    """Rows as columns, each sent in one piece when its values share a type (the common case: fast),
    value by value otherwise."""
    columns = list(zip(*rows, strict=True)) if rows else []
    encoded: list[dict[str, Any]] = []
    for column in columns:
        types = {type(v) for v in column if v is not None}
        if all(t in _PLAIN for t in types):
            encoded.append({"plain": list(column)})
        elif len(types) == 1 and (kind := _COLUMN_KINDS.get(next(iter(types)))) is not None:
            name, to_text = kind
            encoded.append({"kind": name, "x": [None if v is None else to_text(v) for v in column]})
        else:
            encoded.append({"values": [encode(v) for v in column]})
    return encoded


def decode_rows(columns: list[dict[str, Any]], count: int) -> list[tuple[Any, ...]]:
    if not columns:
        return [() for _ in range(count)]
    decoded = []
    for column in columns:
        if "plain" in column:
            decoded.append(column["plain"])
        elif "kind" in column:
            parse = _DECODERS[column["kind"]]
            decoded.append([None if v is None else parse(v) for v in column["x"]])
        else:
            decoded.append([decode(v) for v in column["values"]])
    return list(zip(*decoded, strict=True))


def dumps(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), allow_nan=True).encode()


def loads(body: bytes) -> dict[str, Any]:
    data = json.loads(body)
    if not isinstance(data, dict):
        raise ValueError("the warehouse's owner sent something else than a JSON object")
    return data


def arrow_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def arrow_table(body: bytes) -> pa.Table:
    with pa.ipc.open_stream(pa.BufferReader(body)) as reader:
        return reader.read_all()
