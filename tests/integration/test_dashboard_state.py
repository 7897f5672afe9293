"""The per-pupil state tables of migration 0021 give the dashboards' views the figures the raw history gives:
the platform effect (read from agg_pupil_platform / agg_pupil_progress, it scanned answers and mastery updates)
and mastery per skill (read from mastery_skill_current FINAL), on a small history written by the sink's path."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from tests import factories, factories_warehouse
from tests.integration.warehouse_data import store
from vigie.warehouse import effect_sums

pytestmark = pytest.mark.integration

# The view of migration 0011 as it was (it read the raw history): the reference for the new one.
RAW_PLATFORM_EFFECT = """
SELECT academy, platform, usage_band, level, count() AS pupils, avg(gain) AS mean_gain, avg(p_now) AS mean_p,
       avg(active_days) AS mean_active_days
FROM (
    SELECT usage.academy AS academy, usage.level AS level, usage.platform AS platform,
           usage.active_days AS active_days,
           multiIf(usage.active_days >= 10, '10 jours ou plus', usage.active_days >= 4, '4 à 9 jours',
                   'moins de 4 jours') AS usage_band, progress.gain AS gain, progress.p_now AS p_now
    FROM (
        SELECT academy, student_id, any(level) AS level, argMax(platform, platform_answers) AS platform,
               length(arrayDistinct(arrayFlatten(groupArray(days)))) AS active_days
        FROM (
            SELECT academy, student_id, level, platform, count() AS platform_answers,
                   groupUniqArray(toDate(occurred_at, 'Europe/Paris')) AS days
            FROM {db}.answers GROUP BY academy, student_id, level, platform
        ) GROUP BY academy, student_id
    ) AS usage
    INNER JOIN (
        SELECT academy, student_id, avg(p_last - p_first) AS gain, avg(p_last) AS p_now
        FROM (
            SELECT academy, student_id, skill_code, argMin(p_before, (occurred_at, attempts)) AS p_first,
                   argMax(p_after, (occurred_at, attempts)) AS p_last
            FROM {db}.mastery_updates GROUP BY academy, student_id, skill_code
        ) GROUP BY academy, student_id
    ) AS progress ON usage.academy = progress.academy AND usage.student_id = progress.student_id
)
GROUP BY academy, platform, usage_band, level HAVING pupils >= 5
ORDER BY academy, platform, usage_band, level
"""


def _history(start: datetime = factories.BASE_TIME, first: int = 0) -> list:
    rng = random.Random(3)
    events: list = []
    for pupil in range(30):  # 5 pupils per platform × usage band
        student = factories.student(first + pupil)
        platform = ("fondamentaux", "mathia")[pupil % 2]
        for day in range((2, 6, 11)[pupil // 2 % 3]):  # every usage band
            for n in range(2):
                events.append(
                    factories.answer(
                        student_id=student,
                        platform=platform,
                        occurred_at=start + timedelta(days=day, minutes=n),
                        correct=rng.random() < 0.6,
                    )
                )
        for skill in ("C3-MA-NOM-01", "C3-MA-NOM-02"):
            p = rng.random() * 0.5
            for attempt in range(1, 4):
                after = min(1.0, p + rng.random() * 0.2)
                events.append(
                    factories_warehouse.mastery_updated(
                        student_id=student,
                        skill_code=skill,
                        p_before=p,
                        p_after=after,
                        attempts=attempt,
                        mastered=after > 0.6,
                        occurred_at=start + timedelta(days=attempt, hours=pupil),
                    )
                )
                p = after
    return factories_warehouse.chained(events)


def test_platform_effect_from_per_pupil_state_equals_the_raw_history(settings, warehouse) -> None:
    db = settings.warehouse.database
    events = _history()
    half = len(events) // 2  # two inserts: the state tables hold unmerged rows, as in production
    store(warehouse, db, events[:half])
    store(warehouse, db, events[half:])
    expected = warehouse.query(RAW_PLATFORM_EFFECT.format(db=db)).result_rows
    got = warehouse.query(
        f"SELECT academy, platform, usage_band, level, pupils, mean_gain, mean_p, mean_active_days"
        f" FROM {db}.v_academy_platform_effect ORDER BY academy, platform, usage_band, level"
    ).result_rows
    assert expected, "the reference must have groups of at least 5 pupils"
    assert [r[:5] for r in got] == [r[:5] for r in expected]
    for mine, theirs in zip(got, expected, strict=True):
        assert mine[5:] == pytest.approx(theirs[5:], abs=1e-4)  # estimates packed to 1/65535


def test_mastery_per_skill_is_each_pupils_latest_estimate(settings, warehouse) -> None:
    db = settings.warehouse.database
    events = [e for e in _history() if not isinstance(e, type(factories.answer()))]
    store(warehouse, db, events[::-1])  # newest first: the version (attempts) must win, not the arrival
    expected = warehouse.query(
        f"SELECT skill_code, count(), avg(p), countIf(m) FROM (SELECT student_id, skill_code,"
        f" argMax(p_after, attempts) AS p, argMax(mastered, attempts) AS m FROM {db}.mastery_updates"
        " GROUP BY student_id, skill_code) GROUP BY skill_code ORDER BY skill_code"
    ).result_rows
    for view in ("v_academy_mastery_skill", "v_school_mastery_skill"):
        got = warehouse.query(
            f"SELECT skill_code, pupils, mean_p, mastered FROM {db}.{view} ORDER BY skill_code"
        ).result_rows
        assert [(s, n, m) for s, n, _, m in got] == [(s, n, m) for s, n, _, m in expected], view
        assert [r[2] for r in got] == pytest.approx([r[2] for r in expected]), view


CELLS = (
    "SELECT academy, platform, usage_band, level, pupils, mean_gain, mean_p, mean_active_days"
    " FROM {db}.v_academy_platform_effect_cells ORDER BY academy, platform, usage_band, level"
)


def _same(got: list, expected: list) -> None:
    assert [r[:5] for r in got] == [r[:5] for r in expected]
    for mine, theirs in zip(got, expected, strict=True):
        assert mine[5:] == pytest.approx(theirs[5:], abs=1e-4)


def test_platform_effect_cells_show_the_raw_history_as_of_the_last_reconcile(settings, warehouse) -> None:
    db = settings.warehouse.database
    events = _history()
    store(warehouse, db, events[: len(events) // 2])
    store(warehouse, db, events[len(events) // 2 :])
    assert warehouse.query(CELLS.format(db=db)).result_rows == []  # not fed: reconciled
    assert effect_sums.reconcile(warehouse, db) > 0
    expected = warehouse.query(RAW_PLATFORM_EFFECT.format(db=db)).result_rows
    assert expected
    _same(warehouse.query(CELLS.format(db=db)).result_rows, expected)
    assert effect_sums.drift(warehouse, db) == [] and effect_sums.reconcile(warehouse, db) == 0
    # the live view and the cells agree (the cells keep exact per-pupil sums, in 1e-9 units)
    live = warehouse.query(CELLS.replace("_cells", "").format(db=db)).result_rows
    cells = warehouse.query(CELLS.format(db=db)).result_rows
    assert [r[:5] for r in live] == [r[:5] for r in cells]
    assert [r[5:] for r in live] == [pytest.approx(r[5:], abs=1e-9) for r in cells]


def test_an_erased_pupil_leaves_the_platform_effect_cells_at_once(settings, warehouse) -> None:
    from vigie.warehouse.erase import erase_from_warehouse

    db = settings.warehouse.database
    store(warehouse, db, _history())
    effect_sums.reconcile(warehouse, db)
    before = {r[:4]: r[4] for r in warehouse.query(CELLS.format(db=db)).result_rows}
    report = erase_from_warehouse(warehouse, db, factories.student(0))
    assert report.recomputed[effect_sums.SUMS] == 1  # the pupil's cell, now without them
    after = {r[:4]: r[4] for r in warehouse.query(CELLS.format(db=db)).result_rows}
    (gone,) = set(before) - set(after)  # a group of 5 pupils: now under k, hidden
    assert before[gone] == 5 and after == {k: v for k, v in before.items() if k != gone}
    cells = warehouse.query(
        f"SELECT sum(pupils) FROM {db}.agg_platform_effect GROUP BY academy, level, platform, usage_band"
        " HAVING sum(pupils) = 4"
    ).result_rows
    assert cells == [(4,)]
    _same(
        warehouse.query(CELLS.format(db=db)).result_rows, warehouse.query(RAW_PLATFORM_EFFECT.format(db=db)).result_rows
    )


def test_retention_leaves_the_platform_effect_cells(settings, warehouse) -> None:
    """Pupils last seen 60 days ago leave the cells at the reconcile under a 30-day retention (as `vigie
    warehouse retention 30` and the daily reconcile run it); those of last week stay."""
    db = settings.warehouse.database
    store(warehouse, db, _history(datetime.now(UTC) - timedelta(days=20), first=100))
    effect_sums.reconcile(warehouse, db)
    recent = warehouse.query(CELLS.format(db=db)).result_rows
    store(warehouse, db, _history(datetime.now(UTC) - timedelta(days=60)))
    assert effect_sums.reconcile(warehouse, db) > 0
    assert [r[4] for r in warehouse.query(CELLS.format(db=db)).result_rows] == [2 * r[4] for r in recent]
    assert effect_sums.drift(warehouse, db, 30)  # the older pupils are out of a 30-day retention…
    assert effect_sums.reconcile(warehouse, db, 30) > 0  # …and leave the cells
    assert warehouse.query(CELLS.format(db=db)).result_rows == recent


def test_a_history_stored_before_the_cells_is_backfilled_by_the_migration(settings, warehouse, monkeypatch) -> None:
    from vigie.warehouse import migrations

    old = settings.warehouse.model_copy(update={"database": f"{settings.warehouse.database}_old"})
    db = old.database
    available = migrations.available
    try:
        monkeypatch.setattr(migrations, "available", lambda: [m for m in available() if m.version <= 28])
        monkeypatch.setattr(migrations, "refresh_views", lambda client, warehouse: [])  # views of later tables
        migrations.migrate(warehouse, old)
        store(warehouse, db, _history())
        monkeypatch.undo()
        migrations.migrate(warehouse, old)
        _same(
            warehouse.query(CELLS.format(db=db)).result_rows,
            warehouse.query(RAW_PLATFORM_EFFECT.format(db=db)).result_rows,
        )
    finally:
        warehouse.command(f"DROP DATABASE IF EXISTS {db}")
