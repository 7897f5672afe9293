"""``vigie simulate`` into the real broker: every simulated event lands on the learning-events topic."""

from __future__ import annotations

import time
from datetime import date

import pytest
from kafka import KafkaConsumer
from typer.testing import CliRunner

from vigie.cli import app
from vigie.core.contract.codec import decode_learning_event
from vigie.core.topics import LEARNING_EVENTS, ensure_topics
from vigie.infra.processes import settings_env
from vigie.producers.simulator import Simulation, SimulationConfig

pytestmark = pytest.mark.integration


def test_simulate_publishes_the_whole_cohort_keyed_by_pupil(settings) -> None:
    ensure_topics(settings.kafka)
    args = [
        "simulate",
        "--academies",
        "lyon,creteil",
        "--students",
        "3",
        "--schools",
        "1",
        "--classes",
        "1",
        "--start",
        "2025-11-17",
        "--days",
        "5",
        "--seed",
        "11",
    ]
    result = CliRunner().invoke(app, args, env=settings_env(settings))
    assert result.exit_code == 0, result.output

    config = SimulationConfig(
        academies=("lyon", "creteil"),
        schools_per_academy=1,
        classes_per_school=1,
        students_per_class=3,
        start=date(2025, 11, 17),
        days=5,
        seed=11,
    )
    expected = {e.event_id: e.student_id for e in Simulation(config, settings.privacy).events()}
    assert expected and f"{len(expected)} events published" in " ".join(result.output.split())

    consumer = KafkaConsumer(
        LEARNING_EVENTS.name(settings.kafka.topic_prefix),
        bootstrap_servers=settings.kafka.bootstrap_servers,
        auto_offset_reset="earliest",
        consumer_timeout_ms=1000,
    )
    received: dict = {}
    deadline = time.monotonic() + 60
    try:
        while len(received) < len(expected) and time.monotonic() < deadline:
            for message in consumer:
                event = decode_learning_event(message.value)
                assert message.key == event.student_id.encode()
                received[event.event_id] = event.student_id
    finally:
        consumer.close()
    assert received == expected
