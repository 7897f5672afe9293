"""The one factory of ClickHouse clients.

A ClickHouse server when ``CLICKHOUSE_URL`` is set; otherwise the real ClickHouse engine embedded
in-process (chdb) under the state folder, behind the same clickhouse-connect API and the same SQL.
The embedded engine locks its folder: one process at a time owns the warehouse (the sink while it
runs, or a CLI command), and within a process the client is shared.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import clickhouse_connect
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError

from vigie.core.errors import ConfigurationError, RetriableError
from vigie.core.settings import VigieSettings

log = logging.getLogger(__name__)

_embedded: dict[Path, Client] = {}
_lock = threading.Lock()


class WarehouseLockedError(ConfigurationError):
    """Another process holds the embedded warehouse."""


def connect(settings: VigieSettings) -> Client:
    """Return a client of the configured warehouse (server or embedded)."""
    if settings.clickhouse_url is not None:
        url = settings.clickhouse_url.get_secret_value()
        try:
            return clickhouse_connect.get_client(dsn=url, autogenerate_session_id=False)
        except ClickHouseError as error:
            raise RetriableError(f"ClickHouse server unreachable: {error}", code=_code(error)) from error
    return embedded(settings.chdb_path)


def is_open(path: Path) -> bool:
    """True when this process already opened the embedded engine at ``path``."""
    return path.resolve() in _embedded


def embedded(path: Path) -> Client:
    """The process's client of the embedded engine at ``path`` (created on first use)."""
    path = path.resolve()
    with _lock:
        if path not in _embedded:
            if _embedded:
                raise ConfigurationError(
                    f"the embedded engine is already open at {next(iter(_embedded))}; "
                    f"one process can open only one path (asked for {path})"
                )
            path.mkdir(parents=True, exist_ok=True)
            try:
                _embedded[path] = clickhouse_connect.get_client(dsn=f"chdb://{path}")
            except Exception as error:  # chdb raises plain exceptions on its lock
                if "lock" in str(error).lower() or "already" in str(error).lower():
                    raise WarehouseLockedError(
                        f"the embedded warehouse at {path} is open in another process "
                        "(a running `vigie sink`?): stop it, or set CLICKHOUSE_URL to use a server"
                    ) from error
                raise
            log.info("embedded ClickHouse opened at %s", path)
        return _embedded[path]


def _code(error: Exception) -> int | None:
    return getattr(error, "code", None)
