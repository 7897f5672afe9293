"""Start and stop Vigie's long-running processes the way an operator does: one launcher for all.

The demo, the benchmarks and the tests run stream workers through ``start_worker``; settings travel to
the child as the ``VIGIE_*`` environment variables it would read itself.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from vigie.core.settings import VigieSettings


def settings_env(settings: VigieSettings) -> dict[str, str]:
    """The environment that makes a child process build the same settings as ``settings``."""
    env = dict(os.environ)
    env.update(
        {
            "PYTHONUNBUFFERED": "1",  # a killed child's last log lines are the ones that explain it
            "VIGIE_STATE_DIR": str(settings.state_dir),
            "VIGIE_KAFKA__BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
            "VIGIE_KAFKA__TOPIC_PREFIX": settings.kafka.topic_prefix,
            "VIGIE_KAFKA__PARTITIONS": str(settings.kafka.partitions),
            "VIGIE_WAREHOUSE__DATABASE": settings.warehouse.database,
            "VIGIE_STREAM__APP_ID": settings.stream.app_id,
            "VIGIE_STREAM__BATCH_SIZE": str(settings.stream.batch_size),
            "VIGIE_STREAM__MASTERY_THRESHOLD": str(settings.stream.mastery_threshold),
            "VIGIE_STREAM__METRICS_PORT": str(settings.stream.metrics_port),
            "VIGIE_STREAM__STALL_S": str(settings.stream.stall_s),
            "VIGIE_STREAM__COMPRESSION": settings.stream.compression,
            "VIGIE_SINK__METRICS_PORT": str(settings.sink.metrics_port),
            "VIGIE_STREAM__MASTERY_MODEL": settings.stream.mastery_model,
        }
    )
    return env


def start_worker(
    settings: VigieSettings, log_path: Path, *, loglevel: str = "info", module: str | None = None
) -> subprocess.Popen[bytes]:
    """A stream worker in its own process session, logging to ``log_path``.

    ``module`` runs ``python -m module`` instead of ``vigie stream worker`` (a test's special worker).
    """
    if module:
        return start_process(settings, [sys.executable, "-m", module], log_path)
    return start_vigie(settings, ["stream", "worker", "--log-level", loglevel], log_path)


def start_vigie(settings: VigieSettings, arguments: list[str], log_path: Path) -> subprocess.Popen[bytes]:
    """``vigie <arguments>`` in its own process session (the same interpreter), logging to ``log_path``."""
    return start_process(settings, [sys.executable, "-c", "from vigie.cli import main; main()", *arguments], log_path)


def start_process(settings: VigieSettings, command: list[str], log_path: Path) -> subprocess.Popen[bytes]:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as out:
        return subprocess.Popen(
            command,
            env=settings_env(settings),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def stop_process(process: subprocess.Popen[bytes], timeout_s: float = 30.0) -> None:
    """SIGTERM, then SIGKILL after ``timeout_s``: a worker leaves its group cleanly when it can."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
