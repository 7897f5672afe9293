"""Late answers by design: the stream applies answers in arrival order, and the current-state table and the
class aggregate keep the update the stream made last (greatest ``attempts``), not the newest event time."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests import factories
from tests.integration.warehouse_data import store
from vigie.stream.mastery.params import ParameterBook
from vigie.stream.mastery.processor import MasteryProcessor, decoded_updates

pytestmark = pytest.mark.integration


def test_offline_synced_answers_give_the_same_mastery_in_stream_current_state_and_aggregate(settings, warehouse):
    db = settings.warehouse.database
    pupil = factories.student(7)
    t0 = factories.BASE_TIME + timedelta(days=1)
    online = [factories.answer(student_id=pupil, correct=True, occurred_at=t0 + timedelta(minutes=m)) for m in (30, 31)]
    # Ten wrong answers made offline the hour before, synced (and so arriving) after the online ones.
    offline = [
        factories.answer(student_id=pupil, correct=False, occurred_at=t0 + timedelta(minutes=m)) for m in range(10)
    ]
    updates = decoded_updates(MasteryProcessor({}, ParameterBook(), threshold=0.95).process(online + offline))
    stream_final = updates[-1]  # the stream's estimate after every answer, in arrival order
    assert stream_final.attempts == 12 and stream_final.occurred_at < updates[1].occurred_at
    store(warehouse, db, updates[:2])
    store(warehouse, db, updates[2:])
    current = warehouse.query(f"SELECT p, attempts FROM {db}.mastery_current FINAL").result_rows
    assert current == [(pytest.approx(stream_final.p_after), 12)]
    merged = warehouse.query(
        f"SELECT argMaxMerge(p_state), argMaxMerge(mastered_state), sum(updates) FROM {db}.agg_mastery_class_skill"
    ).result_rows
    assert merged == [(pytest.approx(stream_final.p_after), stream_final.mastered, 12)]
    warehouse.command(f"OPTIMIZE TABLE {db}.mastery_current FINAL")
    assert warehouse.query(f"SELECT count(), any(attempts) FROM {db}.mastery_current").result_rows == [(1, 12)]
