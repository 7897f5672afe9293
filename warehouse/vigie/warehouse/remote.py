"""A client of the embedded warehouse owned by another process, reached over loopback HTTP.

``OwnerClient`` implements the part of clickhouse-connect's ``Client`` that Vigie uses (``query``,
``query_arrow``, ``command``, ``insert``, ``insert_arrow``), so the code reading or writing the warehouse
does not know whether it holds the engine or borrows the owner's. Errors of the engine come back as
clickhouse-connect's own ``DatabaseError`` with ClickHouse's code in the text (what ``failures.classify``
reads); an owner that cannot be reached is an ``OperationalError`` (retriable).
"""

from __future__ import annotations

import http.client
import logging
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
from clickhouse_connect.datatypes.registry import get_from_name
from clickhouse_connect.driver.exceptions import DatabaseError, OperationalError, ProgrammingError
from clickhouse_connect.driver.query import QueryResult
from clickhouse_connect.driver.summary import QuerySummary

from vigie.warehouse import wire
from vigie.warehouse.owner import Endpoint

log = logging.getLogger(__name__)

#: A query may scan the whole history; a ping must be quick.
QUERY_TIMEOUT_S = 3600.0
PING_TIMEOUT_S = 2.0


class OwnerClient:
    """The warehouse through its owner. ``read_only``: every statement runs on the owner's read-only handle."""

    def __init__(self, endpoint: Endpoint, *, read_only: bool = False) -> None:
        self.endpoint = endpoint
        self.read_only = read_only

    def __repr__(self) -> str:
        return f"OwnerClient(pid={self.endpoint.pid}, port={self.endpoint.port}, read_only={self.read_only})"

    # -- clickhouse-connect's Client API (the subset Vigie uses) --------------------------------------------

    def query(
        self, query: str, parameters: dict[str, Any] | None = None, settings: dict[str, Any] | None = None
    ) -> QueryResult:
        body = self._call("query", self._statement(query, parameters, settings))
        answer = wire.loads(body)
        rows = wire.decode_rows(answer["columns"], int(answer["rows"]))
        types = tuple(get_from_name(name) for name in answer["column_types"])
        return QueryResult(rows, None, tuple(answer["column_names"]), types, summary=answer.get("summary"))

    def query_arrow(
        self, query: str, parameters: dict[str, Any] | None = None, settings: dict[str, Any] | None = None
    ) -> pa.Table:
        return wire.arrow_table(self._call("query_arrow", self._statement(query, parameters, settings)))

    def command(
        self, cmd: str, parameters: dict[str, Any] | None = None, settings: dict[str, Any] | None = None
    ) -> str | int | Sequence[str] | QuerySummary:
        answer = wire.loads(self._call("command", self._statement(cmd, parameters, settings)))
        if "summary" in answer:
            return QuerySummary(answer["summary"])
        value: str | int | Sequence[str] = wire.decode(answer["value"])
        return value

    def insert(
        self,
        table: str,
        data: Sequence[Sequence[Any]],
        column_names: str | Sequence[str] = "*",
        database: str | None = None,
        settings: dict[str, Any] | None = None,
        column_oriented: bool = False,
    ) -> QuerySummary:
        """As clickhouse-connect's ``insert``: ``data`` is rows, or columns with ``column_oriented`` (what the
        sink's writer sends); the owner is sent rows either way."""
        rows = zip(*data, strict=True) if column_oriented else data
        request = {
            "table": table,
            "database": database,
            "column_names": column_names if isinstance(column_names, str) else list(column_names),
            "rows": [wire.encode(list(row)) for row in rows],
            "settings": settings,
        }
        return QuerySummary(wire.loads(self._call("insert", wire.dumps(request)))["summary"])

    def insert_arrow(
        self, table: str, arrow_table: pa.Table, database: str | None = None, settings: dict[str, Any] | None = None
    ) -> QuerySummary:
        header = wire.dumps({"table": table, "database": database, "settings": settings})
        body = len(header).to_bytes(4, "big") + header + wire.arrow_bytes(arrow_table)
        return QuerySummary(wire.loads(self._call("insert_arrow", body))["summary"])

    def ping(self) -> bool:
        try:
            self._call("ping", b"", timeout_s=PING_TIMEOUT_S)
        except (OperationalError, DatabaseError):
            return False
        return True

    def close(self) -> None:
        """Nothing to release: each call is one short HTTP exchange."""

    # -- plumbing -------------------------------------------------------------------------------------------

    def _statement(self, sql: str, parameters: dict[str, Any] | None, settings: dict[str, Any] | None) -> bytes:
        if parameters is not None and not isinstance(parameters, dict):
            raise ProgrammingError("the warehouse's owner takes named parameters only (a dict)")
        return wire.dumps(
            {
                "sql": sql,
                "parameters": {k: wire.encode(v) for k, v in (parameters or {}).items()},
                "settings": settings,
                "read_only": self.read_only,
            }
        )

    def _call(self, operation: str, body: bytes, *, timeout_s: float = QUERY_TIMEOUT_S) -> bytes:
        connection = http.client.HTTPConnection("127.0.0.1", self.endpoint.port, timeout=timeout_s)
        try:
            connection.request(
                "POST",
                f"/v1/{operation}",
                body=body,
                headers={"Authorization": f"Bearer {self.endpoint.token}", "Content-Type": "application/octet-stream"},
            )
            response = connection.getresponse()
            payload = response.read()
        except OSError as error:
            raise OperationalError(
                f"the warehouse's owner (pid {self.endpoint.pid}, port {self.endpoint.port}) did not answer: {error}"
            ) from error
        finally:
            connection.close()
        if response.status == 200:
            return payload
        try:
            message = str(wire.loads(payload).get("error", ""))
        except ValueError:
            message = payload[:200].decode(errors="replace")
        if response.status == 401:
            raise OperationalError(f"the warehouse's owner refused the token: {message}")
        raise DatabaseError(message or f"the warehouse's owner answered HTTP {response.status}")
