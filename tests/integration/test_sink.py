from __future__ import annotations

import threading
import time

import pytest
from clickhouse_connect.driver.exceptions import OperationalError

from tests import factories
from vigie.core.errors import PermanentError
from vigie.core.topics import ensure_topics
from vigie.producers.sdk import EventPublisher
from vigie.warehouse.migrations import migrate
from vigie.warehouse.sink import Sink, WarehouseWriter

pytestmark = pytest.mark.integration


def _publish(settings, events) -> None:
    with EventPublisher(settings.kafka) as publisher:
        for event in events:
            publisher.publish(event)


def test_sink_stores_each_event_once_even_when_redelivered(settings, warehouse) -> None:
    ensure_topics(settings.kafka)
    events = [factories.answer(student_id=factories.student(i % 7)) for i in range(300)]
    events += [factories.session_started(student_id=factories.student(i)) for i in range(20)]
    _publish(settings, events + events[:50])  # a platform retried 50 sends

    first = Sink(settings, warehouse).run(until=lambda s: s.consumed >= 370, idle_timeout_s=90)
    assert first.inserted == {"answers": 300, "session_events": 20}

    # A new consumer group rereads everything from the start: the redelivery after a crash.
    settings.sink.group_id += "-again"
    second = Sink(settings, warehouse).run(until=lambda s: s.consumed >= 370, idle_timeout_s=90)
    assert second.inserted_total == 0
    assert second.duplicates_skipped == 320

    db = settings.warehouse.database
    rows, distinct = warehouse.query(f"SELECT count(), uniqExact(event_id) FROM {db}.answers").result_rows[0]
    assert (rows, distinct) == (300, 300)


def test_invalid_messages_do_not_stop_the_sink(settings, warehouse) -> None:
    ensure_topics(settings.kafka)
    with EventPublisher(settings.kafka) as publisher:
        publisher._producer.send(publisher.topic, key=b"k", value=b"{broken")
        publisher.publish(factories.answer())
    stats = Sink(settings, warehouse).run(until=lambda s: s.consumed >= 2, idle_timeout_s=90)
    assert stats.invalid_skipped == 1
    assert stats.inserted == {"answers": 1}


def test_a_missing_table_stops_the_sink_with_what_to_do_and_commits_nothing(settings, warehouse) -> None:
    ensure_topics(settings.kafka)
    _publish(settings, [factories.answer() for _ in range(5)])
    warehouse.command(f"DROP TABLE {settings.warehouse.database}.answers")
    with pytest.raises(PermanentError, match="vigie warehouse migrate") as raised:
        Sink(settings, warehouse).run(idle_timeout_s=60)
    assert raised.value.code == 60  # UNKNOWN_TABLE: never retried

    migrate(warehouse, settings.warehouse)  # repairs the table; the batch was not committed, so it comes again
    stats = Sink(settings, warehouse).run(until=lambda s: s.consumed >= 5, idle_timeout_s=60)
    assert stats.inserted == {"answers": 5} and stats.retries == 0


class _FlakyWriter(WarehouseWriter):
    """The real writer behind a connection that drops twice (a server restarting)."""

    def __init__(self, client, database: str) -> None:
        super().__init__(client, database)
        self.failures_left = 2

    def write(self, table, rows_by_id):
        if self.failures_left:
            self.failures_left -= 1
            raise OperationalError("connection refused (the server restarts)")
        return super().write(table, rows_by_id)


def test_a_server_that_drops_the_connection_is_retried_until_it_takes_the_batch(settings, warehouse) -> None:
    ensure_topics(settings.kafka)
    _publish(settings, [factories.answer() for _ in range(5)])
    sink = Sink(settings, warehouse)
    sink.writer = _FlakyWriter(warehouse, settings.warehouse.database)
    stats = sink.run(until=lambda s: s.consumed >= 5 and not sink.buffers, idle_timeout_s=60)
    assert stats.retries == 2 and stats.inserted == {"answers": 5}


class _HeldWriter(WarehouseWriter):
    """The real writer, holding each batch until ``release`` is set (a slow warehouse)."""

    def __init__(self, client, database: str) -> None:
        super().__init__(client, database)
        self.release = threading.Event()

    def write(self, table, rows_by_id):
        assert self.release.wait(60), "the test never released the batch"
        return super().write(table, rows_by_id)


def _poll_into(sink: Sink, consumer, records: int) -> None:
    deadline = time.monotonic() + 60
    got = 0
    while got < records and time.monotonic() < deadline:
        for tp, polled in consumer.poll(timeout_ms=200).items():
            sink._accept_batch(tp.topic, tp.partition, polled)
            got += len(polled)
    assert got == records


def _committed(consumer) -> int:
    return sum(consumer.committed(tp) or 0 for tp in consumer.assignment())


def test_a_batch_written_in_the_background_commits_only_its_own_offsets(settings, warehouse) -> None:
    ensure_topics(settings.kafka)
    first = [factories.answer(student_id=factories.student(i)) for i in range(6)]
    later = [factories.answer(student_id=factories.student(i)) for i in range(6, 10)]
    _publish(settings, first)
    sink = Sink(settings, warehouse)
    sink.writer = writer = _HeldWriter(warehouse, settings.warehouse.database)
    consumer = sink._consumer()
    try:
        _poll_into(sink, consumer, len(first))
        sink._start_flush()  # the first batch is detached and held in the background
        _publish(settings, later)
        _poll_into(sink, consumer, len(later))  # accepted while the first batch is being written
        assert _committed(consumer) == 0 and len(sink.buffers["answers"].rows) == len(later)
        writer.release.set()
        sink._finish_flush(consumer)
        assert _committed(consumer) == len(first), "only the stored batch's offsets are committed"
        assert sink.stats.inserted == {"answers": len(first)}
        sink._flush(consumer)
        assert _committed(consumer) == len(first) + len(later)
    finally:
        consumer.close(autocommit=False)
    db = settings.warehouse.database
    assert warehouse.query(f"SELECT count() FROM {db}.answers").result_rows[0][0] == len(first) + len(later)
