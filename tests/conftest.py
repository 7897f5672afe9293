"""Shared fixtures: one real Kafka broker per test session, the real ClickHouse engine, isolation.

The broker is started with the project's own infra code on free loopback ports and stopped at
the end. Each test gets fresh topic names, consumer groups and a fresh warehouse database; the
embedded engine itself is one per process (chdb's rule), under the session's temporary folder.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from vigie.core.settings import VigieSettings

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(autouse=True)
def _keep_logging() -> Iterator[None]:
    """CLI commands run in-process configure the root logger on the test's own (then closed) stderr:
    put it back after every test."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(scope="session")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("vigie-state")


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real single-node Kafka broker for the whole session (jars cached under var/kafka/libs)."""
    from vigie.infra.broker import KafkaBroker

    libs = Path(os.environ.get("VIGIE_TEST_KAFKA_LIBS", REPO / "var" / "kafka" / "libs"))
    broker = KafkaBroker(tmp_path_factory.mktemp("kafka"), libs, free_port(), free_port(), heap="768m")
    broker.start(timeout_s=120)
    try:
        yield broker.bootstrap
    finally:
        broker.stop()


@pytest.fixture
def settings(kafka_bootstrap: str, state_dir: Path) -> VigieSettings:
    """Settings isolated for one test: own topic prefix, consumer groups, app id and database."""
    run = uuid.uuid4().hex[:10]
    return VigieSettings(
        state_dir=state_dir,
        kafka={"bootstrap_servers": kafka_bootstrap, "topic_prefix": f"t{run}", "partitions": 4},
        warehouse={"database": f"t_{run}"},
        sink={"group_id": f"sink-{run}", "batch_rows": 5000, "batch_seconds": 0.3},
        stream={"app_id": "stream"},
    )


@pytest.fixture
def warehouse(settings: VigieSettings):
    """A clickhouse-connect client of the real engine, with the schema applied in a fresh database."""
    from vigie.warehouse.client import connect
    from vigie.warehouse.migrations import migrate

    client = connect(settings)
    migrate(client, settings.warehouse)
    yield client
    client.command(f"DROP DATABASE IF EXISTS {settings.warehouse.database}")
