"""`vigie warehouse migrate` repairs what was dropped, refills re-created aggregates and says what is lost."""

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
