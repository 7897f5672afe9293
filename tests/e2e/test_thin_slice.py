"""Simulator -> Kafka -> faust worker -> dead letters, and Kafka -> sink -> ClickHouse -> query."""

from __future__ import annotations

import base64
import time
from datetime import date

import pytest
from kafka import KafkaConsumer

from vigie.core.contract.codec import decode
from vigie.core.contract.events import DeadLetter
from vigie.core.topics import DEAD_LETTERS, ensure_topics
from vigie.infra.processes import start_worker, stop_process
from vigie.producers.sdk import EventPublisher
from vigie.producers.simulator import Simulation, SimulationConfig
from vigie.warehouse.sink import Sink

pytestmark = pytest.mark.e2e


def test_cohort_flows_through_kafka_and_the_stream_into_the_warehouse(settings, warehouse, tmp_path) -> None:
    ensure_topics(settings.kafka)
    worker = start_worker(settings, tmp_path / "worker.log")
    try:
        config = SimulationConfig(students_per_class=3, start=date(2025, 11, 17), days=5)
        events = list(Simulation(config, settings.privacy).events())
        assert events, "a term-time week gives activity"
        with EventPublisher(settings.kafka) as publisher:
            for event in events:
                publisher.publish(event)
            publisher._producer.send(publisher.topic, key=b"x", value=b'{"kind": "answer"}')

        consumer = KafkaConsumer(
            DEAD_LETTERS.name(settings.kafka.topic_prefix),
            bootstrap_servers=settings.kafka.bootstrap_servers,
            auto_offset_reset="earliest",
            consumer_timeout_ms=1000,
        )
        letters: list[DeadLetter] = []
        deadline = time.monotonic() + 90
        while not letters and time.monotonic() < deadline:
            letters += [decode(m.value, DeadLetter) for m in consumer]
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
        consumer.close()
    finally:
        stop_process(worker)

    assert len(letters) == 1, "the one invalid message is dead-lettered, with its original bytes"
    assert base64.b64decode(letters[0].payload_b64) == b'{"kind": "answer"}'
    assert "required" in letters[0].reason.lower()

    def learning(stats) -> int:
        return stats.inserted.get("answers", 0) + stats.inserted.get("session_events", 0)

    stats = Sink(settings, warehouse).run(until=lambda s: learning(s) >= len(events), idle_timeout_s=90)
    assert learning(stats) == len(events)
    db = settings.warehouse.database
    answers = sum(1 for e in events if e.kind == "answer")
    assert warehouse.query(f"SELECT count() FROM {db}.answers").result_rows[0][0] == answers
