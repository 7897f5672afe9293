"""How fast the simulator generates events, and how fast it publishes them to a real Kafka broker.

    .venv/bin/python -m bench.simulator [--students 20] [--days 60]

Starts its own single-node broker on free ports in a temporary folder (jars from var/kafka/libs,
or VIGIE_TEST_KAFKA_LIBS) and stops it at the end.
"""

from __future__ import annotations

import argparse
import os
import socket
import tempfile
import time
from datetime import date
from pathlib import Path

from vigie.core.contract.codec import encode
from vigie.core.settings import KafkaSettings, PrivacySettings
from vigie.core.topics import ensure_topics
from vigie.infra.broker import KafkaBroker
from vigie.producers.sdk import EventPublisher
from vigie.producers.simulator import Simulation, SimulationConfig

REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=20, help="pupils per class")
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--skip-kafka", action="store_true")
    args = parser.parse_args()
    config = SimulationConfig(
        academies=("lyon", "creteil", "lille"),
        schools_per_academy=2,
        classes_per_school=3,
        students_per_class=args.students,
        start=date(2025, 9, 8),
        days=args.days,
    )
    privacy = PrivacySettings()

    began = time.perf_counter()
    sim = Simulation(config, privacy)
    count = sum(1 for _ in sim.events())
    generated = time.perf_counter() - began
    print(
        f"cohort: {config.pupils_count} pupils, {len(sim.days)} days, {count} events "
        f"({len(sim.truth.dropouts)} drop-outs)"
    )
    print(f"generated (no Kafka):        {count / generated:>10,.0f} events/s  ({generated:.1f}s)")

    began = time.perf_counter()
    size = sum(len(encode(e)) for e in sim.events())
    encoded = time.perf_counter() - began
    print(f"generated + encoded (JSON):  {count / encoded:>10,.0f} events/s  ({size / count:.0f} bytes/event)")
    if args.skip_kafka:
        return

    libs = Path(os.environ.get("VIGIE_TEST_KAFKA_LIBS", REPO / "var" / "kafka" / "libs"))
    with tempfile.TemporaryDirectory(prefix="vigie-bench-kafka-") as home:
        broker = KafkaBroker(Path(home), libs, _free_port(), _free_port(), heap="768m")
        broker.start(timeout_s=120)
        try:
            kafka = KafkaSettings(bootstrap_servers=broker.bootstrap, topic_prefix="bench", partitions=6)
            ensure_topics(kafka)
            began = time.perf_counter()
            with EventPublisher(kafka) as publisher:
                for event in sim.events():
                    publisher.publish(event)
                publisher.flush()
            published = time.perf_counter() - began
            print(
                f"published to Kafka (acked):  {count / published:>10,.0f} events/s  ({published:.1f}s, "
                f"{publisher.sent} delivered, {publisher.failed} failed)"
            )
        finally:
            broker.stop()


if __name__ == "__main__":
    main()
