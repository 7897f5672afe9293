"""`vigie erase`: no row of the pupil left in any table, aggregates recomputed, the stream told."""

from __future__ import annotations

import time

import pytest
from kafka import KafkaConsumer

from tests import factories, factories_warehouse
from tests.integration.warehouse_data import store, tables_with_column
from vigie.cli.erase import erase_everywhere
from vigie.core.contract.codec import decode_learning_event, encode
from vigie.core.contract.events import ErasureRequested
from vigie.core.errors import ConfigurationError
from vigie.core.topics import LEARNING_EVENTS, ensure_topics

pytestmark = pytest.mark.integration

ERASED, KEPT = factories.student(1), factories.student(2)


def _everything_about(student_id: str) -> list:
    pupil = {"student_id": student_id}
    return [
        factories.answer(**pupil),
        factories.answer(**pupil, skill_code="C3-MA-NOM-02"),
        factories.session_started(**pupil),
        factories.session_ended(**pupil),
        factories_warehouse.mastery_updated(**pupil, attempts=1, p_after=0.25 if student_id == ERASED else 0.5),
        factories_warehouse.signal_changed(**pupil),
        factories_warehouse.dead_letter(payload=encode(factories.answer(**pupil))),
    ]


def _erasures(settings, timeout_s: float = 30.0) -> list[ErasureRequested]:
    consumer = KafkaConsumer(
        LEARNING_EVENTS.name(settings.kafka.topic_prefix),
        bootstrap_servers=settings.kafka.bootstrap_servers,
        auto_offset_reset="earliest",
        group_id=None,
        consumer_timeout_ms=2000,
    )
    found: list[ErasureRequested] = []
    deadline = time.monotonic() + timeout_s
    try:
        while not found and time.monotonic() < deadline:
            for record in consumer:
                event = decode_learning_event(record.value)
                if isinstance(event, ErasureRequested):
                    assert record.key == event.student_id.encode()
                    found.append(event)
    finally:
        consumer.close()
    return found


def test_erasure_leaves_no_row_of_the_pupil_and_publishes_the_request(settings, warehouse) -> None:
    ensure_topics(settings.kafka)
    db = settings.warehouse.database
    store(warehouse, db, _everything_about(ERASED) + _everything_about(KEPT))
    with_pupils = tables_with_column(warehouse, db, "student_id")
    assert len(with_pupils) >= 8
    # the dashboards' per-pupil state holds the pupil, and is erased with the rest
    for table in ("mastery_skill_current", "agg_pupil_mastery_sums", "agg_pupil_usage"):
        assert table in with_pupils
        held = warehouse.query(f"SELECT count() FROM {db}.{table} WHERE student_id = %(s)s", parameters={"s": ERASED})
        assert held.result_rows[0][0] > 0, table

    report = erase_everywhere(settings, warehouse, ERASED)

    for table in with_pupils:
        left = warehouse.query(f"SELECT count() FROM {db}.{table} WHERE student_id = %(s)s", parameters={"s": ERASED})
        assert left.result_rows == [(0,)], table
    assert report.deleted["answers"] == 2 and report.deleted["dead_letters"] == 1
    assert report.academies == ["lyon"] and report.published == 1
    # The per-class aggregates were rebuilt from what remains: the kept pupil only.
    activity = warehouse.query(
        f"SELECT sum(answers), uniqExactMerge(pupils_state) FROM {db}.agg_activity_daily"
    ).result_rows
    assert activity == [(2, 1)]
    active = warehouse.query(
        f"SELECT uniqExactMerge(pupils_state), sum(answers), sum(sessions_started) FROM {db}.agg_pupils_daily"
    ).result_rows
    assert active == [(1, 2, 1)]
    per_academy = warehouse.query(
        f"SELECT uniqExactMerge(pupils_state), sum(answers), sum(sessions_started) FROM {db}.agg_pupils_daily_academy"
    ).result_rows
    assert per_academy == [(1, 2, 1)]
    assert report.deleted["agg_pupils_daily_academy"] > 0  # its rows of the pupil's days were rebuilt
    for table in ("agg_activity_daily_school", "agg_activity_daily_academy"):  # per school / academy and day
        rebuilt = warehouse.query(f"SELECT sum(answers), uniqExactMerge(pupils_state) FROM {db}.{table}").result_rows
        assert rebuilt == [(2, 1)], table
    capped = warehouse.query(
        f"SELECT sum(answers), uniqUpToMerge(100)(pupils_upto_state) FROM {db}.agg_answers_daily_academy"
    )
    assert capped.result_rows == [(2, 1)]  # the national activity's capped counts (0030) too
    assert report.deleted["agg_answers_daily_academy"] > 0
    signals = warehouse.query(f"SELECT sum(raised), uniqExactMerge(pupils_state) FROM {db}.agg_signals_daily")
    assert signals.result_rows == [(1, 1)]
    # The group mastery sums (no per-pupil rows) lost the pupil's estimate: the kept pupil's only.
    sums = warehouse.query(f"SELECT sum(pupils), sum(p_sum_e9), sum(mastered) FROM {db}.agg_mastery_school_skill")
    assert sums.result_rows == [(1, 500_000_000, 0)]
    assert report.recomputed["agg_mastery_school_skill"] == 1
    kept = warehouse.query(f"SELECT count() FROM {db}.answers WHERE student_id = %(s)s", parameters={"s": KEPT})
    assert kept.result_rows == [(2,)]

    events = _erasures(settings)
    assert [(e.student_id, e.academy) for e in events] == [(ERASED, "lyon")]

    again = erase_everywhere(settings, warehouse, ERASED, academy="lyon")  # idempotent
    assert sum(again.deleted.values()) == 0


def test_erasing_an_unknown_pupil_needs_the_academy(settings, warehouse) -> None:
    with pytest.raises(ConfigurationError):
        erase_everywhere(settings, warehouse, factories.student(99))
