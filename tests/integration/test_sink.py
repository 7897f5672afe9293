from __future__ import annotations

import pytest

from tests import factories
from vigie.core.topics import ensure_topics
from vigie.producers.sdk import EventPublisher
from vigie.warehouse.sink import Sink

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
