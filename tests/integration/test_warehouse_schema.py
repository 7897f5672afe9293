"""Migrations, TTL and retention, and the current-state tables, on the real ClickHouse engine."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests import factories, factories_warehouse
from tests.integration.warehouse_data import store
from vigie.warehouse.migrations import available, migrate, refresh_views
from vigie.warehouse.retention import retention, set_retention

pytestmark = pytest.mark.integration


def _schema(client, db: str) -> dict[str, str]:
    rows = client.query(
        "SELECT name, create_table_query FROM system.tables WHERE database = {db:String}", parameters={"db": db}
    ).result_rows
    return dict(rows)


def test_migrations_apply_twice_without_change(settings, warehouse) -> None:
    db = settings.warehouse.database
    before = _schema(warehouse, db)
    assert migrate(warehouse, settings.warehouse) == []
    assert refresh_views(warehouse, settings.warehouse) == []  # unchanged views are left alone
    assert _schema(warehouse, db) == before
    versions = warehouse.query(f"SELECT version FROM {db}.schema_migrations FINAL ORDER BY version").result_rows
    assert [v for (v,) in versions] == [m.version for m in available()]
    for name in (
        "agg_activity_daily",
        "agg_pupils_daily",
        "agg_mastery_class_skill",
        "agg_signals_daily",
        "v_school_activity_daily",
        "v_academy_at_risk",
        "mastery_current",
        "signals_current",
    ):
        assert name in before


def test_every_table_has_a_ttl_and_starts_its_sort_key_with_academy(settings, warehouse) -> None:
    db = settings.warehouse.database
    rows = warehouse.query(
        "SELECT name, engine, engine_full, sorting_key FROM system.tables WHERE database = {db:String}",
        parameters={"db": db},
    ).result_rows
    stored = [(name, full, key) for name, engine, full, key in rows if engine not in ("View", "MaterializedView")]
    assert len(stored) >= 14
    for name, engine_full, sorting_key in stored:
        if name in ("schema_migrations", "schema_views"):  # bookkeeping of migrations: must never expire
            continue
        if name == "event_ids":  # ids only, no pupil data: sorted by (table, id) for the lookup
            assert f"toIntervalDay({settings.warehouse.retention_days})" in engine_full
            continue
        assert f"toIntervalDay({settings.warehouse.retention_days})" in engine_full, name
        if not name.startswith("skill_parameters"):  # national parameters: no academy, no pupil data
            assert sorting_key.split(",")[0].strip() == "academy", name


def test_retention_changes_every_existing_table(settings, warehouse) -> None:
    db = settings.warehouse.database
    changed = set_retention(warehouse, db, 90)
    tables = retention(warehouse, db)
    assert {t.table for t in tables} == {t for t, _, _ in changed}
    assert all(t.days == 90 for t in tables)
    assert set_retention(warehouse, db, 90) == []  # idempotent


def test_retention_show_prints_data_in_the_asked_format(settings, warehouse, monkeypatch) -> None:
    import json

    from typer.testing import CliRunner

    from vigie.cli import app

    db = settings.warehouse.database
    set_retention(warehouse, db, 120)
    monkeypatch.setenv("VIGIE_STATE_DIR", str(settings.state_dir))  # the engine this process already opened
    monkeypatch.setenv("VIGIE_WAREHOUSE__DATABASE", db)
    runner = CliRunner()
    shown = runner.invoke(app, ["warehouse", "retention", "--show", "--format", "json"])
    assert shown.exit_code == 0, shown.output
    rows = json.loads(shown.stdout)
    assert {r["table"] for r in rows} == {t.table for t in retention(warehouse, db)}
    assert {r["retention_days"] for r in rows} == {120}
    refused = runner.invoke(app, ["warehouse", "retention", "--days", "30", "--format", "json"])
    assert refused.exit_code == 2 and "--show" in refused.output
    assert {t.days for t in retention(warehouse, db)} == {120}, "a refused command changes nothing"


def test_replayed_old_mastery_updates_do_not_overwrite_newer_state(settings, warehouse) -> None:
    db = settings.warehouse.database
    new = factories_warehouse.mastery_updated(
        p_after=0.9, attempts=5, mastered=True, occurred_at=factories.BASE_TIME + timedelta(days=2)
    )
    old = factories_warehouse.mastery_updated(p_after=0.2, attempts=1, mastered=False, occurred_at=factories.BASE_TIME)
    store(warehouse, db, [new])
    store(warehouse, db, [old])  # a replay delivers the old update last
    current = warehouse.query(f"SELECT p, mastered, attempts FROM {db}.mastery_current FINAL").result_rows
    assert current == [(pytest.approx(0.9), True, 5)]
    merged = warehouse.query(
        f"SELECT argMaxMerge(p_state), argMaxMerge(mastered_state), sum(updates) FROM {db}.agg_mastery_class_skill"
    ).result_rows
    assert merged == [(pytest.approx(0.9), True, 2)]
    warehouse.command(f"OPTIMIZE TABLE {db}.mastery_current FINAL")
    assert warehouse.query(f"SELECT count(), any(p) FROM {db}.mastery_current").result_rows == [(1, pytest.approx(0.9))]


def test_current_signal_is_the_newest_and_reasons_are_parsed(settings, warehouse) -> None:
    db = settings.warehouse.database
    raised = factories_warehouse.signal_changed(occurred_at=factories.BASE_TIME)
    cleared = factories_warehouse.signal_changed(
        status="cleared",
        severity=None,
        signal_id=raised.signal_id,
        first_seen_at=raised.first_seen_at,
        occurred_at=factories.BASE_TIME + timedelta(days=3),
        cleared_at=factories.BASE_TIME + timedelta(days=3),
        reasons=(),
    )
    store(warehouse, db, [cleared])
    store(warehouse, db, [raised])
    assert warehouse.query(f"SELECT status FROM {db}.signals_current FINAL").result_rows == [("cleared",)]
    reasons = warehouse.query(
        f"SELECT reasons.code, reasons.threshold FROM {db}.signals WHERE status = 'raised'"
    ).result_rows
    assert reasons == [(["days_inactive"], [7.0])]
    counts = warehouse.query(f"SELECT sum(raised), sum(cleared) FROM {db}.agg_signals_daily").result_rows
    assert counts == [(1, 1)]


def test_latest_skill_parameters_win(settings, warehouse) -> None:
    db = settings.warehouse.database
    store(warehouse, db, [factories_warehouse.skill_parameters(params_version=3, p_learn=0.3)])
    store(warehouse, db, [factories_warehouse.skill_parameters(params_version=2, p_learn=0.2)])
    rows = warehouse.query(f"SELECT params_version, p_learn FROM {db}.skill_parameters_current FINAL").result_rows
    assert rows == [(3, pytest.approx(0.3))]


def test_a_new_aggregate_is_backfilled_from_existing_history(settings, warehouse) -> None:
    """Upgrading a warehouse that has history: the aggregate created by a migration starts full."""
    db = settings.warehouse.database
    store(warehouse, db, [factories.answer(student_id=factories.student(i % 3)) for i in range(12)])
    # Roll back migration 0006 as if this warehouse predated it.
    warehouse.command(f"DROP VIEW {db}.mv_agg_activity_daily")
    warehouse.command(f"DROP TABLE {db}.agg_activity_daily")
    warehouse.command(f"ALTER TABLE {db}.schema_migrations DELETE WHERE version = 6", settings={"mutations_sync": 2})

    applied = migrate(warehouse, settings.warehouse)

    assert [m.version for m in applied] == [6]
    rows = warehouse.query(
        f"SELECT sum(answers), uniqExactMerge(pupils_state) FROM {db}.agg_activity_daily"
    ).result_rows
    assert rows == [(12, 3)]


def test_migrate_repairs_a_dropped_table_and_refills_a_dropped_aggregate(settings, warehouse) -> None:
    db = settings.warehouse.database
    store(warehouse, db, [factories.answer(student_id=factories.student(i % 3)) for i in range(12)])
    warehouse.command(f"DROP TABLE {db}.agg_activity_daily")  # an aggregate: refilled from answers
    warehouse.command(f"DROP TABLE {db}.dead_letters")  # a history table: back, empty

    assert migrate(warehouse, settings.warehouse) == []  # nothing new to apply, but repaired

    names = {r[0] for r in warehouse.query(f"SELECT name FROM system.tables WHERE database = '{db}'").result_rows}
    assert {"agg_activity_daily", "dead_letters"} <= names
    rows = warehouse.query(f"SELECT sum(answers), uniqExactMerge(pupils_state) FROM {db}.agg_activity_daily")
    assert rows.result_rows == [(12, 3)]
    store(warehouse, db, [factories.answer(student_id=factories.student(9))])  # the view feeds it again
    assert warehouse.query(f"SELECT sum(answers) FROM {db}.agg_activity_daily").result_rows == [(13,)]


def test_the_sink_writes_every_column_of_each_table_and_leaves_only_defaults_out(settings, warehouse) -> None:
    from vigie.warehouse.rows import TABLES

    db = settings.warehouse.database
    for table in TABLES:
        ddl = dict(
            warehouse.query(
                "SELECT name, default_kind FROM system.columns WHERE database = {db:String} AND table = {t:String}",
                parameters={"db": db, "t": table.name},
            ).result_rows
        )
        assert set(table.columns) <= set(ddl), f"{table.name}: {set(table.columns) - set(ddl)} not in the DDL"
        unwritten = {c: kind for c, kind in ddl.items() if c not in table.columns}
        assert all(kind for kind in unwritten.values()), f"{table.name}: {unwritten} have no default"
