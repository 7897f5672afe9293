"""Rows read through the warehouse's owner keep the types a direct read gives (JSON, never pickle)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import uuid
from decimal import Decimal

import pyarrow as pa
import pytest

from vigie.warehouse import wire

pytestmark = pytest.mark.unit


def test_typed_values_survive_the_trip() -> None:
    row = [
        uuid.uuid4(),
        dt.datetime(2025, 11, 17, 9, 0, 1, 250000, tzinfo=dt.UTC),
        dt.datetime(2025, 11, 17, 9, 0),
        dt.date(2025, 11, 17),
        Decimal("0.553"),
        b"\x00\xff",
        ipaddress.ip_address("10.0.0.1"),
        ("a", 1),
        {"k": [1.5, None]},
        "texte é",
        True,
        None,
    ]
    back = wire.decode(wire.loads(wire.dumps({"row": wire.encode(row)}))["row"])
    assert back == row
    assert [type(v) for v in back] == [type(v) for v in row]


def test_an_unknown_type_is_refused_not_stringified() -> None:
    with pytest.raises(TypeError, match="set"):
        wire.encode({1, 2})


def test_arrow_ipc_round_trip() -> None:
    table = pa.table({"n": [1, 2], "s": ["x", None]})
    assert wire.arrow_table(wire.arrow_bytes(table)).equals(table)


def test_rows_travel_as_columns_with_their_types() -> None:
    when = dt.datetime(2025, 11, 17, 9, 0, tzinfo=dt.UTC)
    rows = [(1, "a", uuid.uuid4(), when, None, Decimal("1.5")), (2, None, uuid.uuid4(), None, ("t", 1), Decimal("2"))]
    columns = wire.loads(wire.dumps({"c": wire.encode_rows(rows)}))["c"]
    back = wire.decode_rows(columns, len(rows))
    assert back == rows
    assert [type(v) for v in back[0]] == [type(v) for v in rows[0]]
    assert wire.decode_rows([], 3) == [(), (), ()]
