"""`vigie warehouse migrate` repairs what was dropped, and the sink does too when a table goes missing mid-run."""

from __future__ import annotations

import pytest

from tests import factories
from tests.integration.warehouse_data import store
from vigie.warehouse.migrations import migrate_and_repair

pytestmark = pytest.mark.integration


def test_migrate_recreates_dropped_tables_backfills_aggregates_and_says_what_is_lost(settings, warehouse) -> None:
    db = settings.warehouse.database
    store(warehouse, db, [factories.answer(student_id=factories.student(i)) for i in range(4)])
    warehouse.command(f"DROP TABLE {db}.dead_letters")
    warehouse.command(f"DROP TABLE {db}.agg_activity_daily")
    warehouse.command(f"DROP TABLE {db}.mv_mastery_current")
    applied, repaired = migrate_and_repair(warehouse, settings.warehouse)
    assert applied == []
    assert set(repaired.recreated) == {"dead_letters", "agg_activity_daily", "mv_mastery_current"}
    assert set(repaired.backfilled) == {"agg_activity_daily"}
    answers = warehouse.query(f"SELECT sum(answers) FROM {db}.agg_activity_daily").result_rows[0][0]
    assert answers == 4, "the re-created aggregate holds what its source holds"
    assert any("dead_letters" in p and "lost" in p for p in repaired.problems)
    assert any("mv_mastery_current" in p for p in repaired.problems)
    assert migrate_and_repair(warehouse, settings.warehouse)[1].recreated == [], "nothing left to repair"


def test_the_sink_recreates_a_table_dropped_while_it_runs(settings, warehouse) -> None:
    from vigie.core.topics import ensure_topics
    from vigie.producers.sdk import EventPublisher
    from vigie.warehouse.sink import Sink

    db = settings.warehouse.database
    ensure_topics(settings.kafka)
    warehouse.command(f"DROP TABLE {db}.answers")
    events = [factories.answer(student_id=factories.student(i)) for i in range(5)]
    with EventPublisher(settings.kafka) as publisher:
        for event in events:
            publisher.publish(event)
    sink = Sink(settings, warehouse)
    stats = sink.run(until=lambda s: s.inserted.get("answers", 0) >= 5, idle_timeout_s=30)
    assert stats.inserted.get("answers") == 5
    assert warehouse.query(f"SELECT count() FROM {db}.answers").result_rows == [(5,)]
    assert warehouse.query(f"SELECT sum(answers) FROM {db}.agg_activity_daily").result_rows == [(5,)]
