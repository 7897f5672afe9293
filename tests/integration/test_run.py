"""`vigie run`: one supervisor runs the sink and a stream worker, restarts the worker when it dies,
serves the warehouse to other commands, and stops everything on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import factories
from tests.integration.test_warehouse_owner import _count
from vigie.core.settings import VigieSettings
from vigie.core.topics import ensure_topics
from vigie.infra.processes import settings_env
from vigie.producers.sdk import EventPublisher
from vigie.warehouse import owner

pytestmark = pytest.mark.integration


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _pids(file: Path) -> dict:
    try:
        return json.loads(file.read_text())
    except (OSError, ValueError):
        return {}


def _publish(settings: VigieSettings, n: int, pupil: str) -> None:
    student = factories.PSEUDONYMS.student(pupil)
    with EventPublisher(settings.kafka) as publisher:
        for _ in range(n):
            publisher.publish_sync(factories.answer(student_id=student))


def _wait_count(env: dict[str, str], cwd: Path, sql: str, expected: int, timeout_s: float) -> int:
    deadline = time.monotonic() + timeout_s
    while (found := _count(env, cwd, sql)) < expected and time.monotonic() < deadline:
        time.sleep(2)
    return found


def test_run_supervises_sink_and_worker_and_stops_on_sigterm(settings: VigieSettings, tmp_path: Path) -> None:
    settings = settings.model_copy(update={"state_dir": tmp_path / "state"})
    ensure_topics(settings.kafka)
    env = settings_env(settings) | {"VIGIE_SINK__GROUP_ID": settings.sink.group_id}
    env.pop("CLICKHOUSE_URL", None)
    db = settings.warehouse.database
    run = subprocess.Popen(
        [sys.executable, "-c", "from vigie.cli import main; main()", "run", "--no-gateway"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    pid_file = settings.state_dir / "run.json"
    try:
        deadline = time.monotonic() + 120
        while not _pids(pid_file).get("children") or owner.read(owner.endpoint_file(settings.state_dir)) is None:
            assert run.poll() is None, run.communicate()[0]
            assert time.monotonic() < deadline, "vigie run did not start its worker and endpoint"
            time.sleep(0.5)
        first_worker = _pids(pid_file)["children"]["stream worker 1"]

        _publish(settings, 5, "eleve-a")
        stored = _wait_count(env, tmp_path, f"SELECT count() FROM {db}.mastery_updates", 5, 240)
        assert stored == 5, "the worker's mastery updates did not reach the warehouse"

        worker_log = (settings.state_dir / "logs" / "worker-1.log").read_text()
        assert "worker ready: group" in worker_log and "worker took" in worker_log, worker_log[-2000:]

        killed_at = time.monotonic()
        os.kill(first_worker, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while _pids(pid_file).get("children", {}).get("stream worker 1") in (None, first_worker):
            assert time.monotonic() < deadline, "the dead worker was not restarted"
            time.sleep(0.5)
        second_worker = _pids(pid_file)["children"]["stream worker 1"]
        assert _pids(pid_file)["restarts"]["stream worker 1"] == 1

        _publish(settings, 4, "eleve-b")
        stored = _wait_count(env, tmp_path, f"SELECT count() FROM {db}.mastery_updates", 9, 240)
        assert stored == 9, "the restarted worker did not process the new answers"
        print(f"SIGKILL to the new answers stored: {time.monotonic() - killed_at:.1f}s")  # a figure, not a target
    finally:
        run.send_signal(signal.SIGTERM)
        try:
            output, _ = run.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(run.pid, signal.SIGKILL)
            output, _ = run.communicate()
    assert run.returncode == 0, output
    assert "restarts: stream worker 1 1" in output
    assert not _alive(second_worker), "the worker outlived its supervisor"
    assert not owner.endpoint_file(settings.state_dir).exists()
    assert not pid_file.exists()
