"""Duplicates are recognised by event_id whatever their event time: a rebuilt retry (same event_id, a later
occurred_at) is stored once in answers and mastery_updates, and counted once in the aggregates."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests import factories
from tests.integration.warehouse_data import store
from vigie.stream.mastery.params import ParameterBook
from vigie.stream.mastery.processor import MasteryProcessor, decoded_updates

pytestmark = pytest.mark.integration


def test_a_rebuilt_retry_with_a_later_event_time_is_stored_and_counted_once(settings, warehouse) -> None:
    db = settings.warehouse.database
    answers = [factories.answer(student_id=factories.student(i)) for i in range(3)]
    updates = decoded_updates(MasteryProcessor({}, ParameterBook(), threshold=0.95).process(answers))
    store(warehouse, db, answers + updates)
    # A retry handler rebuilds the event: same ids, event time days later (another monthly partition too).
    later = timedelta(days=40, seconds=7)
    retried = [a.model_copy(update={"occurred_at": a.occurred_at + later}) for a in answers]
    retried_updates = [u.model_copy(update={"occurred_at": u.occurred_at + later}) for u in updates]
    written = store(warehouse, db, retried + retried_updates)
    assert written == {"answers": (0, 3), "mastery_updates": (0, 3)}
    for table in ("answers", "mastery_updates"):
        assert warehouse.query(f"SELECT count() FROM {db}.{table}").result_rows == [(3,)], table
    assert warehouse.query(f"SELECT sum(answers) FROM {db}.agg_activity_daily").result_rows == [(3,)]
    assert warehouse.query(f"SELECT sum(updates) FROM {db}.agg_mastery_class_skill").result_rows == [(3,)]
    # the same bytes again, too
    assert store(warehouse, db, answers)["answers"] == (0, 3)


def test_the_duplicate_index_follows_the_retention_setting_and_is_exact(settings, warehouse) -> None:
    import uuid

    from vigie.core.settings import WarehouseSettings
    from vigie.warehouse.migrations import migrate
    from vigie.warehouse.retention import retention, set_retention
    from vigie.warehouse.rows import ANSWERS
    from vigie.warehouse.sink import WarehouseWriter

    db = settings.warehouse.database
    answers = [factories.answer(student_id=factories.student(i)) for i in range(4)]
    store(warehouse, db, answers)
    writer = WarehouseWriter(warehouse, db)
    fresh = [uuid.uuid4() for _ in range(3)]
    assert writer.stored_ids(ANSWERS, [a.event_id for a in answers] + fresh) == {a.event_id for a in answers}
    assert writer.stored_ids(ANSWERS, []) == set()
    with pytest.raises(TypeError):
        writer.stored_ids(ANSWERS, ["1' OR 1=1 --"])  # only UUIDs reach the SQL
    # `vigie warehouse retention` reaches the index (it used to keep the TTL it was created with)
    set_retention(warehouse, db, 45)
    assert {t.table: t.days for t in retention(warehouse, db)}["event_ids"] == 45
    # and a warehouse created with another retention gets it there too
    other = WarehouseSettings(database=f"{db}_r", retention_days=30)
    try:
        migrate(warehouse, other)
        assert {t.table: t.days for t in retention(warehouse, other.database)}["event_ids"] == 30
    finally:
        warehouse.command(f"DROP DATABASE IF EXISTS {other.database}")
