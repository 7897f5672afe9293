"""The one factory of ClickHouse clients.

A ClickHouse server when ``CLICKHOUSE_URL`` is set; otherwise the real ClickHouse engine embedded
in-process (chdb) under the state folder, behind the same clickhouse-connect API and the same SQL.
The embedded engine locks its folder: one process at a time owns the warehouse (the sink while it
runs, or a CLI command). While an owner runs, the other processes reach the warehouse through it
(``remote.OwnerClient``, served by ``endpoint``); within a process the client is shared.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any, cast

import clickhouse_connect
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError

from vigie.core.errors import ConfigurationError, RetriableError
from vigie.core.settings import VigieSettings
from vigie.warehouse import owner
from vigie.warehouse.remote import OwnerClient

log = logging.getLogger(__name__)

_embedded: dict[Path, Client] = {}
_read_only: dict[Path, Client] = {}
_lock = threading.Lock()
#: Every call on the embedded engine, from any handle and thread: chdb garbles results when two handles
#: run at once (each handle only serializes its own calls).
_engine = threading.RLock()
#: How long a command waits for an owner that holds the lock but has not published its endpoint yet.
OWNER_WAIT_S = 15.0


class WarehouseLockedError(ConfigurationError):
    """Another process holds the embedded warehouse and serves no endpoint."""


def connect(settings: VigieSettings, *, read_only: bool = False) -> Client:
    """Return a client of the configured warehouse: a server, the engine in this process, or its owner.

    ``read_only``: on the embedded engine, a handle whose session refuses every write (``readonly = 1``).
    """
    if settings.clickhouse_url is not None:
        url = settings.clickhouse_url.get_secret_value()
        try:
            return clickhouse_connect.get_client(dsn=url, autogenerate_session_id=False)
        except ClickHouseError as error:
            raise RetriableError(f"ClickHouse server unreachable: {error}", code=_code(error)) from error
    return local(settings, read_only=read_only)


def local(settings: VigieSettings, *, read_only: bool = False) -> Client:
    """The embedded warehouse: opened here, or borrowed from the process that owns it."""
    path = settings.chdb_path.resolve()
    if path in _embedded:
        return embedded_read_only(path) if read_only else _embedded[path]
    file = owner.endpoint_file(settings.state_dir)
    deadline = time.monotonic() + OWNER_WAIT_S
    while True:
        borrowed = _owner_client(file, read_only)
        if borrowed is not None:
            return borrowed
        try:
            return embedded_read_only(path) if read_only else embedded(path)
        except WarehouseLockedError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.3)  # an owner starting up publishes its endpoint right after opening


def _owner_client(file: Path, read_only: bool) -> Client | None:
    endpoint = owner.read(file)
    if endpoint is None:
        return None
    client = OwnerClient(endpoint, read_only=read_only)
    if not client.ping():
        log.debug("the warehouse endpoint in %s does not answer", file)
        return None
    log.debug("warehouse reached through its owner, pid %d", endpoint.pid)
    return cast(Client, client)  # the subset of Client Vigie uses (see remote.OwnerClient)


def owns(settings: VigieSettings) -> bool:
    """Whether this process has the embedded warehouse open."""
    return settings.chdb_path.resolve() in _embedded


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
                client = clickhouse_connect.get_client(dsn=f"chdb://{path}")
            except Exception as error:  # chdb raises plain exceptions on its lock
                if "lock" in str(error).lower() or "already" in str(error).lower():
                    raise WarehouseLockedError(
                        f"the embedded warehouse at {path} is open in another process that does not share it "
                        "(an older `vigie sink`, a running command?): wait for it or stop it, "
                        "or set CLICKHOUSE_URL to use a server"
                    ) from None
                raise
            _embedded[path] = cast(Client, _Serialized(client))
            log.info("embedded ClickHouse opened at %s", path)
        return _embedded[path]


def embedded_read_only(path: Path) -> Client:
    """A second handle of the engine at ``path`` whose session is ``readonly = 1`` (cannot be unset)."""
    path = path.resolve()
    embedded(path)  # the process's engine first: it checks the lock and the one-path rule
    with _lock:
        if path not in _read_only:
            with _engine:
                handle = clickhouse_connect.get_client(dsn=f"chdb://{path}")
                handle.command("SET readonly = 1")
            _read_only[path] = cast(Client, _Serialized(handle))
        return _read_only[path]


class _Serialized:
    """A client whose every call holds the process-wide engine lock."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            with _engine:
                return attribute(*args, **kwargs)

        return call


def _code(error: Exception) -> int | None:
    return getattr(error, "code", None)
