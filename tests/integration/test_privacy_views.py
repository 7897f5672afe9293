"""Groups smaller than k pupils never appear in the school- and academy-level views."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests import factories, factories_warehouse
from tests.integration.warehouse_data import store
from vigie.warehouse import effect_sums
from vigie.warehouse.migrations import migrate

pytestmark = pytest.mark.integration

SMALL_SCHOOL, BIG_SCHOOL, OTHER_ACADEMY_SCHOOL = "0691234A", "0695678B", "0381234C"


def _pupil_events(n: int, academy: str, school: str, *, at_risk: bool) -> list:
    pupil = {
        "academy": academy,
        "school_uai": school,
        "student_id": factories.student(n),
        "class_id": factories.PSEUDONYMS.school_class(f"{school}-cm1"),
    }
    events = [
        factories.answer(**pupil, correct=n % 2 == 0),
        factories.session_started(**pupil),
        factories_warehouse.mastery_updated(**pupil, p_after=0.5, mastered=n % 2 == 0, attempts=1),
    ]
    if at_risk:
        events.append(factories_warehouse.signal_changed(**pupil, signal_type="dropout_risk"))
    return events


@pytest.fixture
def cohort(settings, warehouse):
    """k - 1 pupils in one school, k in another (same academy), k - 1 in another academy."""
    k = settings.warehouse.min_group_size
    events = []
    for n in range(k - 1):
        events += _pupil_events(n, "lyon", SMALL_SCHOOL, at_risk=True)
    for n in range(100, 100 + k):
        events += _pupil_events(n, "lyon", BIG_SCHOOL, at_risk=n < 102)
    for n in range(200, 200 + k - 1):
        events += _pupil_events(n, "grenoble", OTHER_ACADEMY_SCHOOL, at_risk=True)
    store(warehouse, settings.warehouse.database, events)
    return k


def _rows(client, db: str, view: str, columns: str) -> list[tuple]:
    return client.query(f"SELECT {columns} FROM {db}.{view} ORDER BY {columns}").result_rows


def test_school_views_hide_groups_of_k_minus_1_and_show_groups_of_k(settings, warehouse, cohort) -> None:
    db, k = settings.warehouse.database, cohort
    assert _rows(warehouse, db, "v_school_activity_daily", "school_uai, pupils, answers_count") == [(BIG_SCHOOL, k, k)]
    assert _rows(warehouse, db, "v_school_mastery_skill", "school_uai, pupils") == [(BIG_SCHOOL, k)]
    assert _rows(warehouse, db, "v_school_at_risk", "school_uai, pupils, pupils_at_risk") == [(BIG_SCHOOL, k, 2)]
    share = warehouse.query(f"SELECT at_risk_share FROM {db}.v_school_at_risk").result_rows[0][0]
    assert share == pytest.approx(2 / k)


def test_academy_views_hide_small_academies(settings, warehouse, cohort) -> None:
    db, k = settings.warehouse.database, cohort
    lyon = 2 * k - 1
    assert _rows(warehouse, db, "v_academy_activity_daily", "academy, pupils") == [("lyon", lyon)]
    assert _rows(warehouse, db, "v_academy_answers_daily", "academy, answers_count") == [("lyon", lyon)]
    assert _rows(warehouse, db, "v_academy_mastery_skill", "academy, pupils") == [("lyon", lyon)]
    assert _rows(warehouse, db, "v_academy_at_risk", "academy, pupils, pupils_at_risk") == [("lyon", lyon, k - 1 + 2)]
    # progress per academy and level: shown when a skill has k pupils (here the only skill: all of them)
    assert _rows(warehouse, db, "v_academy_mastery_gain", "academy, pupils, skills") == [("lyon", lyon, lyon)]
    effect_sums.reconcile(warehouse, db)  # the platform effect's cells (one per academy here)
    assert _rows(warehouse, db, "v_academy_platform_effect_cells", "academy, pupils") == [("lyon", lyon)]


def test_a_new_k_applies_at_the_next_migrate(settings, warehouse, cohort) -> None:
    db, k = settings.warehouse.database, cohort
    smaller = settings.warehouse.model_copy(update={"min_group_size": k - 1})
    assert migrate(warehouse, smaller) == []  # no new migration: the views are re-created all the same
    shown = _rows(warehouse, db, "v_school_activity_daily", "school_uai, pupils")
    assert shown == sorted([(SMALL_SCHOOL, k - 1), (BIG_SCHOOL, k), (OTHER_ACADEMY_SCHOOL, k - 1)])
    migrate(warehouse, settings.warehouse)
    assert len(_rows(warehouse, db, "v_school_activity_daily", "school_uai")) == 1


def test_only_open_dropout_signals_of_medium_or_high_severity_count_as_at_risk(settings, warehouse) -> None:
    """Low severities are early hints, wheel-spinning is a learning difficulty and the rule signals are
    indicators: "at risk" is the calibrated dropout risk at medium or high."""
    db, k = settings.warehouse.database, settings.warehouse.min_group_size
    school = BIG_SCHOOL
    events = []
    for n in range(300, 300 + k + 2):
        events += _pupil_events(n, "lyon", school, at_risk=False)
    pupil = {"academy": "lyon", "school_uai": school, "class_id": factories.PSEUDONYMS.school_class(f"{school}-cm1")}
    events += [
        factories_warehouse.signal_changed(
            **pupil, student_id=factories.student(300), severity="high", signal_type="dropout_risk"
        ),
        factories_warehouse.signal_changed(
            **pupil, student_id=factories.student(301), severity="medium", signal_type="falling_success"
        ),
        factories_warehouse.signal_changed(
            **pupil, student_id=factories.student(304), severity="medium", signal_type="dropout_risk"
        ),
        factories_warehouse.signal_changed(**pupil, student_id=factories.student(305), severity="high"),
        factories_warehouse.signal_changed(**pupil, student_id=factories.student(302), severity="low"),
        factories_warehouse.signal_changed(
            **pupil, student_id=factories.student(303), severity="high", signal_type="wheel_spinning"
        ),
    ]
    store(warehouse, db, events)
    assert _rows(warehouse, db, "v_school_at_risk", "pupils, pupils_at_risk") == [(k + 2, 2)]
    assert _rows(warehouse, db, "v_academy_at_risk", "pupils, pupils_at_risk") == [(k + 2, 2)]
    assert _rows(warehouse, db, "v_school_class_summary", "pupils, pupils_at_risk") == [(k + 2, 2)]


def test_pupils_to_follow_are_ranked_by_risk_with_reasons_and_only_in_classes_of_k(settings, warehouse) -> None:
    db, k = settings.warehouse.database, settings.warehouse.min_group_size
    events = []
    for n in range(400, 400 + k):
        events += _pupil_events(n, "lyon", BIG_SCHOOL, at_risk=False)
    for n in range(500, 500 + k - 1):
        events += _pupil_events(n, "lyon", SMALL_SCHOOL, at_risk=False)
    big = {
        "academy": "lyon",
        "school_uai": BIG_SCHOOL,
        "class_id": factories.PSEUDONYMS.school_class(f"{BIG_SCHOOL}-cm1"),
    }
    small = {
        "academy": "lyon",
        "school_uai": SMALL_SCHOOL,
        "class_id": factories.PSEUDONYMS.school_class(f"{SMALL_SCHOOL}-cm1"),
    }

    def risk(value: float, **where):  # type: ignore[no-untyped-def]
        from vigie.core.contract.events import SignalReason

        return factories_warehouse.signal_changed(
            **where,
            signal_type="dropout_risk",
            reasons=(
                SignalReason(code="dropout_risk", text=f"Risque {value}", value=value, threshold=0.19),
                SignalReason(
                    code="risk_log_since", text="Aucune activité depuis 6 jours d'école.", value=6, threshold=1
                ),
            ),
        )

    events += [
        risk(0.3, **big, student_id=factories.student(400)),
        risk(0.6, **big, student_id=factories.student(401)),
        risk(0.9, **small, student_id=factories.student(500)),
    ]
    cleared = risk(0.5, **big, student_id=factories.student(402))
    events += [
        cleared,
        cleared.model_copy(
            update={
                "event_id": factories_warehouse._id("signal", 9999),
                "status": "cleared",
                "occurred_at": cleared.occurred_at + timedelta(days=1),
            }
        ),
    ]
    store(warehouse, db, events)
    rows = warehouse.query(
        f"SELECT school_uai, rank, pupil, risk, reasons FROM {db}.v_class_pupils_to_follow ORDER BY school_uai, rank"
    ).result_rows
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        (BIG_SCHOOL, 1, factories.student(401)[:8], 0.6),
        (BIG_SCHOOL, 2, factories.student(400)[:8], 0.3),
    ]
    assert rows[0][4] == "Aucune activité depuis 6 jours d'école.", "reasons after the risk itself"
