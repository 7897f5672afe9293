"""Run a real single-node Apache Kafka 4.x broker (KRaft) on loopback, without docker.

The jars come from Maven Central through Maven (``kafka/pom.xml`` beside this module), once per
state folder. Start and stop are idempotent; start returns only when the broker answers metadata
requests, and a failure shows the tail of the broker's log.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from vigie.core.errors import ConfigurationError, VigieError

log = logging.getLogger(__name__)


class BrokerError(VigieError):
    """The broker could not be fetched, started or stopped."""


@dataclass(frozen=True, slots=True)
class BrokerStatus:
    pid: int | None
    process_alive: bool
    answering: bool
    bootstrap: str

    @property
    def running(self) -> bool:
        return self.process_alive and self.answering


def _require(tool: str, hint: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise ConfigurationError(f"`{tool}` is not on PATH: {hint}")
    return path


def fetch_jars(libs: Path) -> Path:
    """Gather the broker's classpath into ``libs`` with Maven (skipped when already there)."""
    if libs.is_dir() and any(libs.glob("kafka_2.13-*.jar")) and any(libs.glob("log4j-core-*.jar")):
        return libs
    _require("java", "install a Java 17 runtime (Debian: openjdk-17-jre-headless).")
    mvn = _require("mvn", "install Maven (Debian: maven).")
    libs.mkdir(parents=True, exist_ok=True)
    with resources.as_file(resources.files("vigie.infra").joinpath("kafka/pom.xml")) as pom:
        log.info("fetching Kafka jars with Maven into %s", libs)
        done = subprocess.run(
            [
                mvn,
                "-B",
                "-q",
                "-f",
                str(pom),
                "dependency:copy-dependencies",
                "-DincludeScope=runtime",
                f"-DoutputDirectory={libs}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        raise BrokerError(f"Maven could not fetch Kafka (exit {done.returncode}):\n{done.stdout[-3000:]}")
    return libs


class KafkaBroker:
    """One broker instance: its config, data, logs and pid live under ``home``."""

    def __init__(self, home: Path, libs: Path, port: int = 9092, controller_port: int = 9093, heap: str = "1g") -> None:
        self.home = home.resolve()
        self.libs = libs.resolve()
        self.port = port
        self.controller_port = controller_port
        self.heap = heap

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def _pid_file(self) -> Path:
        return self.home / "broker.pid"

    @property
    def log_file(self) -> Path:
        return self.home / "logs" / "server.log"

    def _config(self) -> Path:
        data = self.home / "data"
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{self.controller_port}",
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name": "PLAINTEXT",
            "log.dirs": str(data),
            "num.partitions": "1",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "4",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "auto.create.topics.enable": "false",
            "log.retention.check.interval.ms": "60000",
        }
        path = self.home / "server.properties"
        path.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
        return path

    def _java(self, *args: str, **kwargs) -> subprocess.CompletedProcess[str]:
        java = _require("java", "install a Java 17 runtime (Debian: openjdk-17-jre-headless).")
        return subprocess.run(
            [java, "-cp", f"{self.libs}/*", *args], capture_output=True, text=True, check=False, **kwargs
        )

    def _format_storage(self, config: Path) -> None:
        if (self.home / "data" / "meta.properties").exists():
            return
        cluster = self._java("kafka.tools.StorageTool", "random-uuid").stdout.strip().splitlines()[-1]
        done = self._java("kafka.tools.StorageTool", "format", "-t", cluster, "-c", str(config), "-g")
        if done.returncode != 0:
            raise BrokerError(f"formatting Kafka storage failed: {done.stderr[-2000:] or done.stdout[-2000:]}")

    def _pid(self) -> int | None:
        try:
            pid = int(self._pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return pid
        return pid

    def answering(self, timeout_s: float = 2.0) -> bool:
        """True when the broker answers a metadata request."""
        import socket

        from kafka import KafkaAdminClient

        try:  # a cheap TCP check first keeps the Kafka client from logging refused connections
            socket.create_connection(("127.0.0.1", self.port), timeout=timeout_s).close()
        except OSError:
            return False
        from kafka.errors import KafkaError

        try:
            admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=int(timeout_s * 1000))
        except (KafkaError, OSError, ValueError):
            return False
        try:
            admin.list_topics()
            return True
        except (KafkaError, OSError):
            return False
        finally:
            admin.close()

    def status(self) -> BrokerStatus:
        pid = self._pid()
        return BrokerStatus(pid, pid is not None, pid is not None and self.answering(), self.bootstrap)

    def start(self, timeout_s: float = 90.0) -> BrokerStatus:
        """Start the broker unless it already runs; return once it answers metadata requests."""
        current = self.status()
        if current.running:
            log.info("Kafka already running (pid %s) on %s", current.pid, self.bootstrap)
            return current
        if current.process_alive:
            self.stop()
        fetch_jars(self.libs)
        (self.home / "logs").mkdir(parents=True, exist_ok=True)
        config = self._config()
        self._format_storage(config)
        with resources.as_file(resources.files("vigie.infra").joinpath("kafka/log4j2.properties")) as log4j:
            java = _require("java", "install a Java 17 runtime (Debian: openjdk-17-jre-headless).")
            out = (self.home / "logs" / "broker.out").open("ab")
            process = subprocess.Popen(
                [
                    java,
                    f"-Xmx{self.heap}",
                    f"-Xms{self.heap}",
                    "-XX:+UseG1GC",
                    f"-Dkafka.logs.dir={self.home / 'logs'}",
                    f"-Dlog4j2.configurationFile={log4j}",
                    "-cp",
                    f"{self.libs}/*",
                    "kafka.Kafka",
                    str(config),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self._pid_file.write_text(str(process.pid))
        log.info("Kafka starting (pid %s) on %s, logs in %s", process.pid, self.bootstrap, self.log_file)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise BrokerError(f"Kafka exited with code {process.returncode}:\n{self._tail()}")
            if self.answering(timeout_s=1.0):
                log.info("Kafka ready on %s", self.bootstrap)
                return self.status()
            time.sleep(0.5)
        self.stop()
        raise BrokerError(f"Kafka did not answer within {timeout_s:.0f}s:\n{self._tail()}")

    def stop(self, timeout_s: float = 30.0) -> bool:
        """Stop the broker if it runs (SIGTERM, then SIGKILL). True if a process was stopped."""
        pid = self._pid()
        if pid is None:
            self._pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and self._pid() is not None:
            _reap(pid)
            time.sleep(0.2)
        if self._pid() is not None:
            log.warning("Kafka (pid %s) ignored SIGTERM for %.0fs; killing it", pid, timeout_s)
            os.kill(pid, signal.SIGKILL)
            time.sleep(0.5)
            _reap(pid)
        self._pid_file.unlink(missing_ok=True)
        log.info("Kafka stopped (pid %s)", pid)
        return True

    def _tail(self, lines: int = 40) -> str:
        for path in (self.log_file, self.home / "logs" / "broker.out"):
            if path.exists():
                return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        return "(no broker log yet)"


def _reap(pid: int) -> None:
    """Collect a child's exit status so it does not linger as a zombie (no-op for non-children)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def broker_from_settings(settings) -> KafkaBroker:
    home = settings.kafka_home
    return KafkaBroker(
        home / "instance", home / "libs", settings.broker.port, settings.broker.controller_port, settings.broker.heap
    )
