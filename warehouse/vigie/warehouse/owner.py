"""The endpoint file: how a process finds the one that owns the embedded warehouse.

The owner (a running sink, ``vigie run``) writes ``<state folder>/warehouse.endpoint``, mode 0600: its
pid, the loopback port it serves on and a random token. Whoever can read the file may use the warehouse,
exactly as whoever can open the warehouse's folder could; nobody else can.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

FILE_NAME = "warehouse.endpoint"


@dataclass(frozen=True)
class Endpoint:
    """Where and how to reach the owner of the embedded warehouse at ``path``."""

    pid: int
    port: int
    token: str
    path: str

    @staticmethod
    def new(port: int, path: Path) -> Endpoint:
        return Endpoint(os.getpid(), port, secrets.token_urlsafe(32), str(path))


def endpoint_file(state_dir: Path) -> Path:
    return state_dir / FILE_NAME


def write(file: Path, endpoint: Endpoint) -> None:
    """Write atomically, readable by the owner's user only (created 0600, never wider)."""
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_name(f".{file.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(asdict(endpoint), out)
    os.replace(tmp, file)


def read(file: Path) -> Endpoint | None:
    """The endpoint in ``file`` if its process is alive; ``None`` if there is none (or a stale one)."""
    endpoint = read_raw(file)
    if endpoint is None or not _alive(endpoint.pid):
        return None
    return endpoint


def remove(file: Path, endpoint: Endpoint) -> None:
    """Remove ``file`` if it still names ``endpoint`` (a newer owner's file stays)."""
    if read_raw(file) == endpoint:
        file.unlink(missing_ok=True)


def read_raw(file: Path) -> Endpoint | None:
    try:
        data = json.loads(file.read_text())
        return Endpoint(int(data["pid"]), int(data["port"]), str(data["token"]), str(data["path"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True
