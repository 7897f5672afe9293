"""Keep a few child processes alive on one machine: start them, restart one that dies, stop all cleanly.

What ``vigie run`` uses for the stream worker (and the xAPI gateway when installed). A child that exits
is restarted after a back-off that doubles up to ``max_backoff_s`` and resets once it has run for a minute,
so a crash loop does not spin. Stopping sends SIGTERM to every child, then SIGKILL after a grace period.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from vigie.infra.processes import stop_process

log = logging.getLogger(__name__)


@dataclass
class Child:
    """One supervised process: ``start`` launches it (again)."""

    name: str
    start: Callable[[], subprocess.Popen[bytes]]
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started_at: float = 0.0
    backoff_s: float = 1.0
    due_at: float | None = None  # when a dead child is started again


@dataclass
class Supervisor:
    children: list[Child]
    #: Written on every change: the supervisor's and children's pids (for ``vigie status`` and tests).
    pid_file: Path | None = None
    max_backoff_s: float = 30.0
    grace_s: float = 30.0
    _stopped: bool = field(default=False, init=False)

    def start(self) -> None:
        for child in self.children:
            self._launch(child)

    def check(self) -> None:
        """Restart the children that died (after their back-off); call it every second or so."""
        now = time.monotonic()
        for child in self.children:
            if self._stopped:
                return
            if child.process is not None and child.process.poll() is not None:
                code = child.process.returncode
                if now - child.started_at > 60:
                    child.backoff_s = 1.0
                child.due_at = now + child.backoff_s
                log.warning(
                    "%s (pid %d) exited with status %s; restarting in %.0fs",
                    child.name,
                    child.process.pid,
                    code,
                    child.backoff_s,
                )
                child.backoff_s = min(child.backoff_s * 2, self.max_backoff_s)
                child.process = None
            if child.process is None and child.due_at is not None and now >= child.due_at:
                child.restarts += 1
                self._launch(child)

    def stop(self) -> None:
        """SIGTERM every child (a worker leaves its group cleanly), SIGKILL after ``grace_s``."""
        self._stopped = True
        for child in self.children:
            if child.process is not None:
                log.info("stopping %s (pid %d)", child.name, child.process.pid)
                stop_process(child.process, self.grace_s)
                child.process = None
        if self.pid_file is not None:
            self.pid_file.unlink(missing_ok=True)

    def _launch(self, child: Child) -> None:
        child.process = child.start()
        child.started_at = time.monotonic()
        child.due_at = None
        log.info("%s started (pid %d)", child.name, child.process.pid)
        self._write_pids()

    def _write_pids(self) -> None:
        if self.pid_file is None:
            return
        pids = {c.name: c.process.pid for c in self.children if c.process is not None}
        restarts = {c.name: c.restarts for c in self.children}
        tmp = self.pid_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"supervisor": os.getpid(), "children": pids, "restarts": restarts}))
        tmp.replace(self.pid_file)
