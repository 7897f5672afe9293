"""Inactivity through the real broker: a worker process raises the signal from event time, then clears it."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import pytest
from kafka import KafkaConsumer

from tests import factories
from vigie.core.contract.codec import decode
from vigie.core.contract.events import SignalChanged
from vigie.core.topics import SIGNALS, ensure_topics
from vigie.infra.processes import start_worker, stop_process
from vigie.producers.sdk import EventPublisher
from vigie.stream.signals.engine import pupil_partition

pytestmark = pytest.mark.integration


def _work(pupil: str, day: date) -> list:
    start = datetime(day.year, day.month, day.day, 9, tzinfo=UTC)
    session = f"s-{pupil[:8]}-{day.isoformat()}"
    return [
        factories.session_started(student_id=pupil, session_id=session, occurred_at=start),
        factories.answer(student_id=pupil, session_id=session, occurred_at=start + timedelta(minutes=1)),
    ]


def _read_until(consumer: KafkaConsumer, worker, log_path, wanted, timeout_s: float = 120) -> list[SignalChanged]:
    seen: list[SignalChanged] = []
    deadline = time.monotonic() + timeout_s
    while not wanted(seen) and time.monotonic() < deadline:
        seen += [decode(m.value, SignalChanged) for m in consumer]
        assert worker.poll() is None, log_path.read_text()[-3000:]
    return seen


def test_worker_raises_inactivity_when_event_time_moves_on_and_clears_it_on_activity(settings, tmp_path) -> None:
    partitions = settings.kafka.partitions
    pupil = factories.student(100)
    # Classmates on the pupil's partition: the watermark is per partition.
    others = [
        s
        for s in (factories.student(n) for n in range(101, 200))
        if pupil_partition(s, partitions) == pupil_partition(pupil, partitions)
    ][:2]
    # Three weeks of daily work (Tue 11 Nov is a public holiday), so the pupil's own rhythm is known.
    weeks = [d for d in (date(2025, 11, 3) + timedelta(days=i) for i in range(19)) if d.weekday() < 5 and d.day != 11]
    silent_week = [date(2025, 11, d) for d in (24, 25, 26, 27, 28)]
    ensure_topics(settings.kafka)
    log_path = tmp_path / "worker.log"
    worker = start_worker(settings, log_path)
    consumer = KafkaConsumer(
        SIGNALS.name(settings.kafka.topic_prefix),
        bootstrap_servers=settings.kafka.bootstrap_servers,
        auto_offset_reset="earliest",
        consumer_timeout_ms=1000,
    )
    try:
        with EventPublisher(settings.kafka) as publisher:
            for day in weeks:
                for event in _work(pupil, day) + [e for o in others for e in _work(o, day)]:
                    publisher.publish(event)
            # Then only the classmates work, every school day: the partition's event time moves on.
            for day in [*silent_week, date(2025, 12, 1)]:
                for event in [e for o in others for e in _work(o, day)]:
                    publisher.publish(event)
        raised = _read_until(
            consumer, worker, log_path, lambda seen: any(s.student_id == pupil and s.status == "raised" for s in seen)
        )
        with EventPublisher(settings.kafka) as publisher:
            for event in _work(pupil, date(2025, 12, 1)):
                publisher.publish(event)
        cleared = _read_until(
            consumer, worker, log_path, lambda seen: any(s.student_id == pupil and s.status == "cleared" for s in seen)
        )
    finally:
        consumer.close()
        stop_process(worker)

    mine = [s for s in raised + cleared if s.student_id == pupil and s.signal_type == "inactivity"]
    first = mine[0]
    assert (first.status, first.severity) == ("raised", "low")
    # Active every school day up to Fri 21 Nov, then silent: the second missed school day is Tue 25, seen at
    # 00:00 on Wed 26 (event time, not the wall clock).
    assert first.occurred_at == datetime(2025, 11, 26, tzinfo=UTC)
    missed = next(r for r in first.reasons if r.code == "school_days_inactive")
    assert (missed.value, missed.threshold) == (2, 2) and "2 jours d'école" in missed.text
    assert [s.severity for s in mine if s.status == "changed"] == ["medium", "high"]
    assert mine[-1].status == "cleared" and mine[-1].signal_id == first.signal_id
    assert len({s.event_id for s in mine}) == len(mine), "each change emitted once"
    assert not [s for s in raised + cleared if s.student_id in others and s.signal_type == "inactivity"]
