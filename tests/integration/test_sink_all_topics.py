"""The sink stores each event of every routed topic exactly once, even when everything is redelivered,
so the materialized views fed by those tables count each event once."""

from __future__ import annotations

import pytest
from kafka import KafkaProducer

from tests import factories, factories_warehouse
from tests.integration.warehouse_data import topic_of
from vigie.core.contract.codec import encode
from vigie.core.topics import ensure_topics
from vigie.warehouse.rows import ROUTES
from vigie.warehouse.sink import Sink

pytestmark = pytest.mark.integration


def _key(event) -> bytes:
    return (getattr(event, "student_id", None) or getattr(event, "skill_code", None) or "k").encode()


def test_every_topic_is_stored_once_under_redelivery(settings, warehouse) -> None:
    ensure_topics(settings.kafka)
    pupils = [factories.student(i) for i in range(4)]
    events = [factories.answer(student_id=pupils[i % 4]) for i in range(40)]
    events += [factories.session_started(student_id=p) for p in pupils]
    events += [factories_warehouse.mastery_updated(student_id=pupils[i % 4]) for i in range(30)]
    events += [factories_warehouse.signal_changed(student_id=p) for p in pupils]
    events += [factories_warehouse.skill_parameters(skill_code="C3-MA-NOM-01", params_version=v) for v in (1, 2)]
    events += [factories_warehouse.dead_letter() for _ in range(3)]
    events += [factories_warehouse.statement_kept() for _ in range(2)]
    assert {topic_of(e) for e in events} == set(ROUTES)
    resent = events + events[::3]  # producers retried a third of their sends
    producer = KafkaProducer(bootstrap_servers=settings.kafka.bootstrap_servers, acks="all")
    for event in resent:
        producer.send(topic_of(event).name(settings.kafka.topic_prefix), key=_key(event), value=encode(event))
    producer.flush()
    producer.close()

    expected = {
        "answers": 40,
        "session_events": 4,
        "mastery_updates": 30,
        "signals": 4,
        "skill_parameters": 2,
        "dead_letters": 3,
        "raw_statements": 2,
    }
    first = Sink(settings, warehouse).run(until=lambda s: s.consumed >= len(resent), idle_timeout_s=90)
    assert first.inserted == expected

    settings.sink.group_id += "-again"  # a new group rereads everything: the redelivery after a crash
    second = Sink(settings, warehouse).run(until=lambda s: s.consumed >= len(resent), idle_timeout_s=90)
    assert second.inserted_total == 0
    assert second.duplicates_skipped == sum(expected.values())

    db = settings.warehouse.database
    for table, count in expected.items():
        rows = warehouse.query(f"SELECT count(), uniqExact(event_id) FROM {db}.{table}").result_rows
        assert rows == [(count, count)], table
    # Materialized views saw each event once.
    assert warehouse.query(f"SELECT sum(answers) FROM {db}.agg_activity_daily").result_rows == [(40,)]
    assert warehouse.query(f"SELECT sum(answers), sum(sessions_started) FROM {db}.agg_pupils_daily").result_rows == [
        (40, 4)
    ]
    assert warehouse.query(f"SELECT sum(updates) FROM {db}.agg_mastery_class_skill").result_rows == [(30,)]
    assert warehouse.query(f"SELECT sum(raised) FROM {db}.agg_signals_daily").result_rows == [(4,)]
    assert warehouse.query(f"SELECT params_version FROM {db}.skill_parameters_current FINAL").result_rows == [(2,)]


def test_a_batch_larger_than_one_lookup_is_deduplicated(settings, warehouse) -> None:
    """A full lookup (20k ids) fits one query (ids are a bound parameter, not SQL text), and a batch with more
    ids (the default batch_rows is larger) is looked up in several queries, none of its ids missed."""
    from tests.integration.warehouse_data import store
    from vigie.core.settings import SinkSettings
    from vigie.warehouse.sink import LOOKUP_IDS

    assert SinkSettings().batch_rows > LOOKUP_IDS
    size = LOOKUP_IDS + 7
    events = [factories.answer(student_id=factories.student(i % 50)) for i in range(size)]
    db = settings.warehouse.database
    assert store(warehouse, db, events) == {"answers": (size, 0)}
    assert store(warehouse, db, events) == {"answers": (0, size)}
