"""Load of the xAPI gateway over loopback HTTP, from a second process: statements/s and latency.

    .venv/bin/python -m bench.gateway [--singles 2000] [--batches 40] [--clients 8] [--max-seconds 120]

Starts a single-node Kafka on free loopback ports in a temporary folder (jars under var/kafka/libs, or
--kafka-libs), configures one platform (a skill rule, a roster of 500 pupils) in a fresh state folder,
starts ``vigie gateway`` as a subprocess, then this process posts Moodle-shaped ``answered`` statements
(each one new, so each is validated, claimed, mapped and produced with acks=all before the answer):
first one statement per request from ``--clients`` threads, then batches of 100. Every phase stops at its
count or at ``--max-seconds``. Figures depend on the machine and its load: a floor, not a promise.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bench import results
from vigie.core.settings import KafkaSettings, PrivacySettings, VigieSettings
from vigie.core.topics import ensure_topics
from vigie.infra.broker import KafkaBroker
from vigie.producers.gateway.config import Platform, SkillRule, roster_entries
from vigie.producers.gateway.examples import moodle_question_answered
from vigie.producers.gateway.store import GatewayStore
from vigie.producers.pseudonym import AcademyPseudonymizers

REPO = Path(__file__).resolve().parents[1]
PUPILS = 500


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Statements:
    """New Moodle answers, thread-safe: question n of attempt n // 10 of pupil n % PUPILS."""

    def __init__(self) -> None:
        self._next = 0
        self._lock = threading.Lock()
        self._when = (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="seconds")

    def take(self, count: int) -> list[dict]:
        with self._lock:
            start, self._next = self._next, self._next + count
        return [
            moodle_question_answered(
                f"u{n % PUPILS}", question=n, attempt=n // 10, success=n % 3 != 0, timestamp=self._when
            )
            for n in range(start, start + count)
        ]


def _load(
    url: str,
    auth: tuple[str, str],
    statements: Statements,
    *,
    requests: int,
    per_request: int,
    clients: int,
    max_seconds: float,
) -> tuple[int, float, list[float], int]:
    """Post ``requests`` requests of ``per_request`` statements from ``clients`` threads."""
    latencies: list[float] = []
    failures = 0
    done = 0
    lock = threading.Lock()
    deadline = time.monotonic() + max_seconds

    def worker() -> None:
        nonlocal done, failures
        headers = {"X-Experience-API-Version": "1.0.3"}
        with httpx.Client(base_url=url, auth=auth, headers=headers, timeout=60) as client:
            while time.monotonic() < deadline:
                with lock:
                    if done >= requests:
                        return
                    done += 1
                batch = statements.take(per_request)
                body = batch if per_request > 1 else batch[0]
                sent = time.perf_counter()
                response = client.post("/xAPI/statements", json=body)
                took = time.perf_counter() - sent
                with lock:
                    if response.status_code == 200:
                        latencies.append(took)
                    else:
                        failures += 1

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(latencies) * per_request, time.perf_counter() - began, latencies, failures


def _cuts(latencies: list[float]) -> list[float]:
    return statistics.quantiles(latencies, n=100) if len(latencies) >= 2 else [latencies[0]] * 99


def _figures(name: str, statements: int, seconds: float, latencies: list[float], failures: int) -> dict[str, float]:
    cut = _cuts(latencies)
    return {
        f"gateway_{name}_statements_per_s": round(statements / seconds, 1),
        f"gateway_{name}_p50_ms": round(cut[49] * 1000, 1),
        f"gateway_{name}_p99_ms": round(cut[98] * 1000, 1),
        f"gateway_{name}_failed": failures,
    }


def _line(name: str, statements: int, seconds: float, latencies: list[float], failures: int) -> str:
    cut = _cuts(latencies)
    return (
        f"  {name:<28} {statements / seconds:>8,.0f} statements/s  ({statements:,} in {seconds:.1f} s; "
        f"{len(latencies):,} requests, p50 {cut[49] * 1000:.0f} ms, p99 {cut[98] * 1000:.0f} ms, "
        f"{failures} failed)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--singles", type=int, default=2000, help="requests of one statement")
    parser.add_argument("--batches", type=int, default=40, help="requests of 100 statements")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads for single statements")
    parser.add_argument("--batch-clients", type=int, default=4, help="concurrent client threads for batches")
    parser.add_argument("--workers", type=int, default=1, help="gateway worker processes")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="time bound of each phase")
    parser.add_argument(
        "--kafka-libs",
        type=Path,
        default=Path(os.environ.get("BENCH_KAFKA_LIBS", REPO / "var" / "kafka" / "libs")),
    )
    args = parser.parse_args()
    started_on = results.machine()

    with tempfile.TemporaryDirectory(prefix="vigie-bench-gateway-") as home:
        broker = KafkaBroker(Path(home) / "kafka", args.kafka_libs, _free_port(), _free_port(), heap="768m")
        broker.start(timeout_s=120)
        gateway = None
        try:
            kafka = KafkaSettings(bootstrap_servers=broker.bootstrap, topic_prefix="bench", partitions=6)
            ensure_topics(kafka)
            privacy = PrivacySettings(default_key="bench-key-0123456789abcdef")
            settings = VigieSettings(state_dir=Path(home) / "state", kafka=kafka, privacy=privacy)
            store = GatewayStore(settings.gateway_db)
            platform = Platform(slug="bench-elea", academies=("lyon",))
            store.save_platform(platform)
            store.add_rule("bench-elea", SkillRule(match="moodle-cmid", value="57", skill_code="C3-MA-NOM-05"))
            roster = "learner,uai,class,level\n" + "".join(f"u{n},0691234A,6{n % 8},6e\n" for n in range(PUPILS))
            store.import_roster("bench-elea", roster_entries(roster, platform, AcademyPseudonymizers(privacy)))
            auth = store.add_credential("bench-elea", "basic")
            store.close()

            port = _free_port()
            env = {
                **os.environ,
                "VIGIE_STATE_DIR": str(settings.state_dir),
                "VIGIE_KAFKA__BOOTSTRAP_SERVERS": broker.bootstrap,
                "VIGIE_KAFKA__TOPIC_PREFIX": "bench",
                "VIGIE_GATEWAY__PORT": str(port),
                "VIGIE_PRIVACY__DEFAULT_KEY": "bench-key-0123456789abcdef",
                "VIGIE_LOG_LEVEL": "WARNING",
            }
            gateway = subprocess.Popen(
                [sys.executable, "-c", "from vigie.cli import main; main()", "gateway", "--workers", str(args.workers)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{url}/xAPI/about", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or gateway.poll() is not None:
                    raise SystemExit(
                        f"the gateway did not start: {gateway.stderr.read().decode() if gateway.stderr else ''}"
                    )
                time.sleep(0.2)

            statements = Statements()
            _load(url, auth, statements, requests=20, per_request=1, clients=2, max_seconds=30)  # warm up
            singles = _load(
                url,
                auth,
                statements,
                requests=args.singles,
                per_request=1,
                clients=args.clients,
                max_seconds=args.max_seconds,
            )
            batches = _load(
                url,
                auth,
                statements,
                requests=args.batches,
                per_request=100,
                clients=args.batch_clients,
                max_seconds=args.max_seconds,
            )
        finally:
            if gateway is not None:
                gateway.terminate()
                gateway.wait(timeout=30)
            broker.stop()

    print(
        f"Vigie xAPI gateway over loopback HTTP (uvicorn, {args.workers} worker process(es); Kafka 4.1 single node, "
        "acks=all per request)"
    )
    print(_line(f"1 statement/request, {args.clients} clients", *singles))
    print(_line(f"100/request, {args.batch_clients} clients", *batches))
    figures = _figures("single", *singles) | _figures("batch100", *batches) | {"gateway_workers": args.workers}
    print(f"recorded in {results.record('gateway', figures, started_on)}")


if __name__ == "__main__":
    main()
