"""While a sink owns the embedded warehouse, the other commands reach it through the sink, from any folder.

The sink runs in its own process (as an operator runs it); each command is a separate ``vigie`` process
started from another working directory. Before the endpoint, every one of them failed on chdb's lock.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from clickhouse_connect.driver.exceptions import DatabaseError

from tests import factories
from vigie.core.settings import VigieSettings
from vigie.core.topics import ensure_topics
from vigie.infra.processes import settings_env
from vigie.producers.sdk import EventPublisher
from vigie.warehouse import owner
from vigie.warehouse.remote import OwnerClient

pytestmark = pytest.mark.integration

KEPT, ERASED = factories.PSEUDONYMS.student("eleve-kept"), factories.PSEUDONYMS.student("eleve-erased")


def _vigie(env: dict[str, str], cwd: Path, *args: str, timeout_s: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from vigie.cli import main; main()", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )


def _count(env: dict[str, str], cwd: Path, sql: str) -> int:
    out = cwd / "count.csv"
    done = _vigie(env, cwd, "sql", sql, "--format", "csv", "--out", str(out))
    assert done.returncode == 0, done.stderr
    with out.open() as rows:
        return int(list(csv.reader(rows))[1][0])


@contextmanager
def _owner_process(env: dict[str, str], cwd: Path) -> Iterator[None]:
    """A process that opens the embedded warehouse and serves it (as the sink does), until the block ends."""
    script = (
        "import time; from vigie.core.settings import load_settings; from vigie.warehouse.client import connect; "
        "from vigie.warehouse.endpoint import serve; s = load_settings(); connect(s); e = serve(s); "
        "print('ready', flush=True); time.sleep(120)"
    )
    server = subprocess.Popen([sys.executable, "-c", script], env=env, cwd=cwd, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        yield
    finally:
        server.kill()
        server.wait()
        if server.stdout is not None:
            server.stdout.close()


@pytest.fixture
def own_state(settings: VigieSettings, tmp_path: Path) -> VigieSettings:
    """The same broker and topics, with a state folder (hence a warehouse) of this test's own."""
    return settings.model_copy(update={"state_dir": tmp_path / "state"})


def test_sql_report_erase_and_status_work_while_the_sink_runs(own_state: VigieSettings, tmp_path: Path) -> None:
    settings = own_state
    ensure_topics(settings.kafka)
    env = settings_env(settings) | {"VIGIE_SINK__GROUP_ID": settings.sink.group_id}
    env.pop("CLICKHOUSE_URL", None)
    sink_folder, elsewhere = tmp_path / "sink-here", tmp_path / "elsewhere"
    sink_folder.mkdir()
    elsewhere.mkdir()
    file = owner.endpoint_file(settings.state_dir)
    sink = subprocess.Popen(
        [sys.executable, "-c", "from vigie.cli import main; main()", "sink"],
        env=env,
        cwd=sink_folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while owner.read(file) is None and sink.poll() is None and time.monotonic() < deadline:
            time.sleep(0.3)
        assert owner.read(file) is not None, "the sink published no endpoint"
        assert stat.S_IMODE(os.stat(file).st_mode) == 0o600
        assert owner.read(file).pid == sink.pid

        answers = [factories.answer(student_id=KEPT) for _ in range(7)]
        answers += [factories.answer(student_id=ERASED) for _ in range(3)]
        with EventPublisher(settings.kafka) as publisher:
            for event in answers:
                publisher.publish_sync(event)
        db = settings.warehouse.database
        deadline = time.monotonic() + 90
        while (stored := _count(env, elsewhere, f"SELECT count() FROM {db}.answers")) < 10:
            assert time.monotonic() < deadline, f"only {stored} answers stored"
            time.sleep(1)
        assert stored == 10

        # Read-only for analysts: the text guard refuses the write hidden behind a SELECT; behind it, the
        # owner's read-only handle refuses it too (asked directly, past the guard). The table stays.
        refused = _vigie(env, elsewhere, "sql", f"SELECT 1; DROP TABLE {db}.answers")
        assert refused.returncode != 0 and "Traceback" not in refused.stderr
        analyst = OwnerClient(owner.read(file), read_only=True)
        for write in (f"SELECT 1; DROP TABLE {db}.answers", f"INSERT INTO {db}.answers SELECT * FROM {db}.answers"):
            with pytest.raises(DatabaseError, match="READONLY"):
                analyst.query_arrow(write)
            with pytest.raises(DatabaseError, match="READONLY"):
                analyst.command(write)
        assert _count(env, elsewhere, f"SELECT count() FROM {db}.answers") == 10

        report = _vigie(env, elsewhere, "report", "--academy", "lyon", "--out", "report", "--days", "1000")
        assert report.returncode == 0, report.stderr
        assert report.stdout == "" and "report written to" in report.stderr, "the data is the pages; a message"
        html = (elsewhere / "report" / "lyon" / "index.html").read_text(encoding="utf-8")
        assert "<html" in html and "Académie de Lyon" in html and (elsewhere / "report" / "index.html").is_file()

        erased = _vigie(env, elsewhere, "erase", "--student", ERASED)
        assert erased.returncode == 0, erased.stderr
        assert "3 row(s) removed" in erased.stdout  # the answers table's line
        assert _count(env, elsewhere, f"SELECT count() FROM {db}.answers WHERE student_id = '{ERASED}'") == 0
        assert _count(env, elsewhere, f"SELECT count() FROM {db}.answers") == 7

        migrated = _vigie(env, elsewhere, "warehouse", "migrate")
        assert migrated.returncode == 0 and "0 migration(s) applied" in migrated.stdout, migrated.stderr
        calibrated = _vigie(env, elsewhere, "calibrate", "--model", "bkt", "--dry-run")
        assert calibrated.returncode == 0, calibrated.stderr
        assert "of 1 (dry run" in calibrated.stdout + calibrated.stderr  # the stored answers' one skill was read

        status = _vigie(env, elsewhere, "status", "--format", "json")
        assert status.returncode == 0, status.stdout + status.stderr
        found = json.loads(status.stdout)
        assert found["warehouse"]["owner_pid"] == sink.pid
        assert {t["table"]: t["rows"] for t in found["warehouse"]["tables"]}["answers"] == 7
        assert found["groups"]["sink"]["lag"] == 0

        # Nothing was created in the folders the commands ran from: the state folder comes from settings.
        assert sorted(p.name for p in elsewhere.iterdir()) == ["count.csv", "report"]
        assert list(sink_folder.iterdir()) == []
    finally:
        sink.send_signal(signal.SIGTERM)
        try:
            output, _ = sink.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            sink.kill()
            output, _ = sink.communicate()
    assert sink.returncode == 0, output
    assert "inserted {'answers': 10}" in output  # the erasure request was consumed too
    assert not file.exists(), "the sink left its endpoint file behind"


def test_a_wrong_token_is_refused(own_state: VigieSettings, tmp_path: Path) -> None:
    """Whoever cannot read the 0600 endpoint file gets nothing from the owner."""
    from clickhouse_connect.driver.exceptions import OperationalError

    env = settings_env(own_state)
    env.pop("CLICKHOUSE_URL", None)
    file = owner.endpoint_file(own_state.state_dir)
    with _owner_process(env, tmp_path):
        real = owner.read(file)
        assert real is not None
        assert OwnerClient(real).query("SELECT 41 + 1").result_rows == [(42,)]
        forged = owner.Endpoint(real.pid, real.port, "not-the-token", real.path)
        with pytest.raises(OperationalError, match="token"):
            OwnerClient(forged).query("SELECT 1")


def test_the_sinks_column_oriented_insert_goes_through_the_owner(own_state: VigieSettings, tmp_path: Path) -> None:
    """The sink's writer inserts columns (``column_oriented=True``); through an owner it must store the same
    rows as a row-oriented insert."""
    env = settings_env(own_state)
    env.pop("CLICKHOUSE_URL", None)
    with _owner_process(env, tmp_path):
        endpoint = owner.read(owner.endpoint_file(own_state.state_dir))
        assert endpoint is not None
        client = OwnerClient(endpoint)
        client.command("CREATE TABLE default.owner_insert (n UInt32, s String) ENGINE = MergeTree ORDER BY n")
        client.insert("owner_insert", [[1, 2, 3], ["a", "b", "c"]], ["n", "s"], "default", column_oriented=True)
        client.insert("owner_insert", [[4, "d"]], ["n", "s"], "default")
        stored = client.query("SELECT n, s FROM default.owner_insert ORDER BY n").result_rows
        assert stored == [(1, "a"), (2, "b"), (3, "c"), (4, "d")]
