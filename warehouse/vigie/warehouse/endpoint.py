"""The owner's side: serve the embedded warehouse to Vigie's commands in other processes.

chdb lets one process open the warehouse's folder; while the sink (or ``vigie run``) holds it, ``vigie sql``,
``report``, ``erase``, ``status``... reach it here: a small HTTP server on loopback, in a thread of the owner,
that runs their statements on the owner's engine. Why HTTP on loopback rather than a Unix socket: the
standard library serves and speaks it on every platform, and one request per statement needs no framing.

- Authenticated: every request carries the random token of the endpoint file (0600, see ``owner``).
- Read-only where asked: ``vigie sql`` runs on a second handle of the engine whose session has
  ``readonly = 1`` (ClickHouse's own guard: writes, DDL and multi-statement tricks are refused, and it
  cannot be set back). Per-call settings are not used for this: on chdb, a ``SET`` the command path applies
  around a call cannot be restored once ``readonly`` is on, and would leave the sink's handle read-only.
- Rows travel as typed JSON, Arrow results as Arrow IPC (see ``wire``).
"""

from __future__ import annotations

import hmac
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.summary import QuerySummary

from vigie.core.settings import VigieSettings
from vigie.warehouse import owner, wire
from vigie.warehouse.client import embedded, embedded_read_only, owns
from vigie.warehouse.failures import error_code

log = logging.getLogger(__name__)

#: Largest request accepted (an insert of a large batch); beyond it the client should use a server.
MAX_BODY_BYTES = 512 * 1024 * 1024


class WarehouseEndpoint:
    """Serves ``client`` (read-write) and ``read_only`` on 127.0.0.1 until ``close()``."""

    def __init__(self, client: Client, read_only: Client, file: Path, path: Path) -> None:
        self.client = client
        self.read_only = read_only
        self.file = file
        self.path = path
        self.requests = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self.endpoint = owner.Endpoint.new(self._server.server_address[1], path)
        self._thread = threading.Thread(target=self._server.serve_forever, name="warehouse-endpoint", daemon=True)

    def start(self) -> WarehouseEndpoint:
        self._thread.start()
        owner.write(self.file, self.endpoint)
        log.info("warehouse served to other Vigie commands on 127.0.0.1:%d (%s)", self.endpoint.port, self.file)
        return self

    def close(self) -> None:
        owner.remove(self.file, self.endpoint)
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> WarehouseEndpoint:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- one request ------------------------------------------------------------------------------------

    def authorized(self, header: str | None) -> bool:
        expected = f"Bearer {self.endpoint.token}"
        return header is not None and hmac.compare_digest(header.encode(), expected.encode())

    def settle(self) -> None:
        """After a failed statement, chdb answers the next query on the same handle with the rest of the
        failed one (a multi-statement text refused half-way): absorb it here, not in the next caller's result."""
        for client in (self.read_only, self.client):
            try:
                client.query_arrow("SELECT 1")
            except Exception as error:
                log.debug("warehouse handle settled: %s", error)

    def handle(self, operation: str, body: bytes) -> tuple[bytes, str]:
        """The answer to one request and its content type; engine errors propagate to the handler."""
        self.requests += 1
        if operation == "ping":
            return wire.dumps({"pid": self.endpoint.pid}), "application/json"
        if operation == "insert_arrow":
            size = int.from_bytes(body[:4], "big")
            header = wire.loads(body[4 : 4 + size])
            summary = self.client.insert_arrow(
                header["table"], wire.arrow_table(body[4 + size :]), header.get("database"), header.get("settings")
            )
            return wire.dumps({"summary": _summary(summary)}), "application/json"
        request = wire.loads(body)
        if operation == "insert":
            summary = self.client.insert(
                request["table"],
                [wire.decode(row) for row in request["rows"]],
                column_names=request["column_names"],
                database=request.get("database"),
                settings=request.get("settings"),
            )
            return wire.dumps({"summary": _summary(summary)}), "application/json"
        client = self.read_only if request.get("read_only") else self.client
        sql = str(request["sql"])
        parameters = {k: wire.decode(v) for k, v in (request.get("parameters") or {}).items()} or None
        settings = request.get("settings")
        if operation == "query":
            result = client.query(sql, parameters=parameters, settings=settings)
            answer = {
                "column_names": list(result.column_names),
                "column_types": [t.name for t in result.column_types],
                "rows": len(result.result_rows),
                "columns": wire.encode_rows(result.result_rows),
                "summary": result.summary,
            }
            return wire.dumps(answer), "application/json"
        if operation == "query_arrow":
            table = client.query_arrow(sql, parameters=parameters, settings=settings)
            return wire.arrow_bytes(table), "application/vnd.apache.arrow.stream"
        if operation == "command":
            value = client.command(sql, parameters=parameters, settings=settings)
            if isinstance(value, QuerySummary):
                return wire.dumps({"summary": _summary(value)}), "application/json"
            return wire.dumps({"value": wire.encode(value)}), "application/json"
        raise UnknownOperationError(operation)


class UnknownOperationError(Exception):
    """A request for an operation the endpoint does not serve."""


def _summary(summary: QuerySummary) -> dict[str, Any]:
    return dict(summary.summary)


def _handler(endpoint: WarehouseEndpoint) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "vigie-warehouse"

        def do_POST(self) -> None:
            if not endpoint.authorized(self.headers.get("Authorization")):
                self._answer(401, wire.dumps({"error": "missing or wrong token"}), "application/json")
                return
            operation = self.path.removeprefix("/v1/")
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                self._answer(413, wire.dumps({"error": f"request over {MAX_BODY_BYTES} bytes"}), "application/json")
                return
            body = self.rfile.read(length)
            try:
                payload, kind = endpoint.handle(operation, body)
            except UnknownOperationError:
                self._answer(404, wire.dumps({"error": f"no operation {operation!r}"}), "application/json")
            except Exception as error:  # the engine's refusal goes back to the caller, the owner carries on
                log.debug("warehouse request %s failed: %s", operation, error)
                endpoint.settle()
                answer = {"error": str(error).strip() or type(error).__name__, "code": error_code(error)}
                self._answer(400, wire.dumps(answer), "application/json")
            else:
                self._answer(200, payload, kind)

        def _answer(self, status: int, payload: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("warehouse endpoint: %s", format % args)

    return Handler


def serve(settings: VigieSettings) -> WarehouseEndpoint | None:
    """Serve this process's embedded warehouse to other commands; ``None`` with a server (nothing to share)
    or when another process owns the warehouse (this one borrows it)."""
    if settings.clickhouse_url is not None or not owns(settings):
        return None
    path = settings.chdb_path
    endpoint = WarehouseEndpoint(
        embedded(path), embedded_read_only(path), owner.endpoint_file(settings.state_dir), path
    )
    return endpoint.start()
