"""Publish rate of the platform SDK against a real broker it starts itself.

    .venv/bin/python -m bench.sdk [--events 50000] [--sync-events 1000]

Starts a single-node Kafka (vigie.infra.broker) on free loopback ports in a temporary folder, with
the jars under var/kafka/libs (fetched by Maven if missing), creates the topics, then measures:
building events from raw ids (pseudonymisation + strict validation, no I/O), fire-and-forget
publishing with a final flush (acks=all, idempotent, lz4, 20 ms linger), the same with the build
included (what a platform's loop does), and synchronous publishing (one acknowledged round trip per
event). The broker is stopped at the end. Figures depend on the machine and its load: they are a
floor to compare changes against, not a capacity promise.
"""

from __future__ import annotations

import argparse
import logging
import socket
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import results
from vigie.core.settings import KafkaSettings, PrivacySettings
from vigie.core.topics import ensure_topics
from vigie.infra.broker import KafkaBroker
from vigie.producers.builder import EventBuilder, Pupil
from vigie.producers.sdk import EventPublisher

REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(builder: EventBuilder, count: int, start: int = 0) -> list:
    skills = ("C3-MA-NOM-01", "C3-MA-NOM-02", "C3-FR-GRA-01", "C3-FR-LEC-01")
    when = datetime.now(UTC) - timedelta(hours=1)
    events = []
    for n in range(start, start + count):
        pupil = Pupil(
            academy="lyon",
            school_uai="0691234A",
            student=f"ent-{n % 5000}",
            school_class=f"cm1-{n % 200}",
            level="CM1",
            teacher=f"prof-{n % 200}",
        )
        events.append(
            builder.answer(
                pupil,
                source_event_id=f"attempt-{n}",
                session_id=f"s-{n // 20}",
                skill_code=skills[n % 4],
                item_id=f"q-{n % 300}",
                correct=n % 3 != 0,
                response_time_ms=4000 + n % 9000,
                occurred_at=when,
            )
        )
    return events


def _rate(count: int, seconds: float) -> str:
    return f"{count / seconds:>10,.0f} events/s  ({count:,} in {seconds:.2f} s)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000, help="events for the fire-and-forget runs")
    parser.add_argument("--sync-events", type=int, default=1_000, help="events for the synchronous run")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    started_on = results.machine()
    builder = EventBuilder("bench", PrivacySettings(default_key="bench-key-0123456789abcdef"))
    began = time.perf_counter()
    events = _answers(builder, args.events)
    build_s = time.perf_counter() - began

    with tempfile.TemporaryDirectory(prefix="vigie-bench-sdk-") as home:
        broker = KafkaBroker(Path(home), REPO / "var" / "kafka" / "libs", _free_port(), _free_port(), heap="768m")
        broker.start(timeout_s=120)
        try:
            kafka = KafkaSettings(bootstrap_servers=broker.bootstrap, topic_prefix="bench", partitions=6)
            ensure_topics(kafka)
            with EventPublisher(kafka) as publisher:
                publisher.publish_sync(events[0])  # connect and fetch metadata outside the timings

                began = time.perf_counter()
                for event in events:
                    publisher.publish(event)
                publisher.flush()
                fire_s = time.perf_counter() - began

                began = time.perf_counter()
                for event in _answers(builder, args.events, start=args.events):
                    publisher.publish(event)
                publisher.flush()
                built_fire_s = time.perf_counter() - began

                latencies = []
                for event in events[: args.sync_events]:
                    sent = time.perf_counter()
                    publisher.publish_sync(event)
                    latencies.append(time.perf_counter() - sent)
                failed, delivered = publisher.failed, publisher.sent
        finally:
            broker.stop()

    sync_s = sum(latencies)
    cut = statistics.quantiles(latencies, n=100)
    size = len(events[0].model_dump_json())
    print(f"Vigie SDK publish rate (Kafka 4.1 single node, 6 partitions, answer ~{size} bytes of JSON)")
    print(f"  build from raw ids (no I/O)      {_rate(args.events, build_s)}")
    print(f"  fire-and-forget + flush          {_rate(args.events, fire_s)}")
    print(f"  build + fire-and-forget + flush  {_rate(args.events, built_fire_s)}")
    print(
        f"  sync (one ack per event)         {_rate(args.sync_events, sync_s)}"
        f"  p50 {cut[49] * 1000:.1f} ms, p99 {cut[98] * 1000:.1f} ms"
    )
    print(f"  delivered {delivered:,}, failed {failed}; record CRC32C in {_crc_implementation()}")
    figures = {
        "producer_events_per_s": round(args.events / built_fire_s),
        "producer_fire_and_forget_per_s": round(args.events / fire_s),
        "producer_sync_p99_ms": round(cut[98] * 1000, 1),
    }
    print(f"  recorded in {results.record('sdk', figures, started_on)}")


def _crc_implementation() -> str:
    """kafka-python checksums every record batch: in C with the optional ``crc32c`` package, else in Python."""
    from kafka.record import util

    return "C (crc32c package)" if util.crc32c_c is not None else "pure Python (pip install crc32c to speed it up)"


if __name__ == "__main__":
    main()
