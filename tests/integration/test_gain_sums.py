"""The running sums of mastery progress per academy and level (agg_level_mastery_gain, migration 0028) equal the
raw computation (each pupil × skill's first p_before and latest p_after in mastery_updates, summed per group), on
random streams written by the sink's path in random order, after a migration of a history stored before 0028
(and before 0023, without previous_*), after an erasure, and after retention (reconcile); the view shows the
skill-weighted gain and hides the groups without k pupils on one skill."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from tests import factories, factories_warehouse
from tests.integration.warehouse_data import store
from vigie.warehouse import gain_sums
from vigie.warehouse.rows import MASTERY_UPDATES_TABLE, mastery_row

pytestmark = pytest.mark.integration

SKILLS = ("C3-MA-NOM-01", "C3-MA-NOM-02", "C3-FR-LEC-01")


def _stream(seed: int, pupils: int, *, start: datetime | None = None) -> list:
    """Chains of updates per pupil × skill as the stream emits them, pupils spread over two academies and
    three levels (few in 6e)."""
    rng = random.Random(seed)
    start = start or factories.BASE_TIME
    events = []
    for n in range(pupils):
        academy = ("lyon", "grenoble")[n % 3 == 2]
        where = {
            "academy": academy,
            "school_uai": "0691234A" if academy == "lyon" else "0381234C",
            "student_id": factories.student(seed * 1000 + n),
            "class_id": factories.PSEUDONYMS.school_class(f"{academy}-{n % 2}"),
            "level": "6e" if n % 10 == 0 else ("CM1", "CM2")[n % 2],  # 6e: small groups
        }
        for skill in rng.sample(SKILLS, rng.randint(1, len(SKILLS))):
            p = rng.random() * 0.5
            for attempt in range(1, rng.randint(1, 6) + 1):
                after = min(1.0, max(0.0, p + rng.uniform(-0.1, 0.25)))
                events.append(
                    factories_warehouse.mastery_updated(
                        **where,
                        skill_code=skill,
                        subject="francais" if "-FR-" in skill else "mathematiques",
                        p_before=p,
                        p_after=after,
                        attempts=attempt,
                        mastered=after >= 0.6,
                        occurred_at=start + timedelta(days=attempt, minutes=n),
                    )
                )
                p = after
    return factories_warehouse.chained(events)


def _raw(client, db: str, where: str = "1") -> list[tuple]:
    """Per (academy, level): pupil × skill chains, sum of first p_before, sum of latest p_after (1e-9 units)."""
    return client.query(
        "SELECT academy, level, toInt64(count()), sum(toInt64(round(toFloat64(first) * 1e9))),"
        " sum(toInt64(round(toFloat64(latest) * 1e9)))"
        " FROM (SELECT academy, level, student_id, skill_code, argMin(p_before, (attempts, occurred_at)) AS first,"
        f" argMax(p_after, (attempts, occurred_at)) AS latest FROM {db}.mastery_updates WHERE {where}"
        " GROUP BY academy, level, student_id, skill_code)"
        " GROUP BY academy, level ORDER BY academy, level"
    ).result_rows


def _sums(client, db: str) -> list[tuple]:
    return client.query(
        f"SELECT academy, level, sum(skills), sum(first_sum_e9), sum(latest_sum_e9) FROM {db}.agg_level_mastery_gain"
        " GROUP BY academy, level HAVING sum(skills) != 0 OR sum(first_sum_e9) != 0 OR sum(latest_sum_e9) != 0"
        " ORDER BY academy, level"
    ).result_rows


def _store_shuffled(client, db: str, events: list, seed: int) -> None:
    shuffled = events[:]
    random.Random(seed).shuffle(shuffled)
    for start in range(0, len(shuffled), 41):
        store(client, db, shuffled[start : start + 41])
    inserted, skipped = store(client, db, shuffled[:41])["mastery_updates"]  # redelivered: skipped
    assert (inserted, skipped) == (0, 41)


@pytest.mark.parametrize("seed", [1, 2])
def test_sums_and_view_equal_the_raw_history_whatever_the_arrival_order(settings, warehouse, seed) -> None:
    db = settings.warehouse.database
    _store_shuffled(warehouse, db, _stream(seed, 45, start=datetime.now(UTC) - timedelta(days=20)), seed)
    expected = _raw(warehouse, db)
    assert len(expected) == 6 and _sums(warehouse, db) == expected
    assert gain_sums.drift(warehouse, db) == [] and gain_sums.drift(warehouse, db, 365) == []
    # the view: skill-weighted gain and mean estimate; a group is shown when one skill has >= k pupils
    k = settings.warehouse.min_group_size
    largest = dict(
        ((a, lvl), n)
        for a, lvl, n in warehouse.query(
            "SELECT academy, level, max(n) FROM (SELECT academy, level, skill_code, uniqExact(student_id) AS n"
            f" FROM {db}.mastery_updates GROUP BY academy, level, skill_code) GROUP BY academy, level"
        ).result_rows
    )
    shown = [r for r in expected if largest[(r[0], r[1])] >= k]
    assert shown and len(shown) < len(expected), "the history must have groups on both sides of k"
    got = warehouse.query(
        f"SELECT academy, level, pupils, skills, mean_gain, mean_p FROM {db}.v_academy_mastery_gain"
        " ORDER BY academy, level"
    ).result_rows
    assert [r[:4] for r in got] == [(a, lvl, largest[(a, lvl)], n) for a, lvl, n, _, _ in shown]
    assert [r[4:] for r in got] == [
        pytest.approx(((latest - first) / 1e9 / n, latest / 1e9 / n), abs=1e-12) for _, _, n, first, latest in shown
    ]


def test_an_erased_pupil_leaves_the_sums(settings, warehouse) -> None:
    from vigie.warehouse.erase import erase_from_warehouse

    db = settings.warehouse.database
    events = _stream(3, 30)
    _store_shuffled(warehouse, db, events, 3)
    pupil = events[0].student_id
    report = erase_from_warehouse(warehouse, db, pupil)
    assert report.recomputed[gain_sums.SUMS] == 1 and report.deleted["mastery_updates"] > 0
    assert _sums(warehouse, db) == _raw(warehouse, db)  # the raw history without the pupil
    assert gain_sums.drift(warehouse, db) == []


def test_retention_leaves_the_sums_with_the_expired_pupils(settings, warehouse, monkeypatch) -> None:
    from typer.testing import CliRunner

    from vigie.cli import app

    db = settings.warehouse.database
    days = settings.warehouse.retention_days
    recent = _stream(4, 30, start=datetime.now(UTC) - timedelta(days=20))
    expired = _stream(5, 30, start=datetime.now(UTC) - timedelta(days=days + 30))
    _store_shuffled(warehouse, db, recent + expired, 4)
    warehouse.command(f"OPTIMIZE TABLE {db}.agg_pupil_mastery_sums FINAL")  # TTL: the expired pupils go
    assert gain_sums.drift(warehouse, db, days)  # …which the sums still count
    monkeypatch.setenv("VIGIE_STATE_DIR", str(settings.state_dir))  # the engine this process already opened
    monkeypatch.setenv("VIGIE_WAREHOUSE__DATABASE", db)
    fixed = CliRunner().invoke(app, ["warehouse", "mastery-sums", "--reconcile"])
    assert fixed.exit_code == 0 and f"group(s) of {db}.{gain_sums.SUMS} corrected" in fixed.stdout, fixed.output
    recent_only = f"student_id IN {tuple(sorted(_pupils(recent)))}"
    assert _sums(warehouse, db) == _raw(warehouse, db, recent_only)
    assert gain_sums.drift(warehouse, db, days) == [] and gain_sums.reconcile(warehouse, db, days) == 0


def _pupils(events: list) -> set[str]:
    return {e.student_id for e in events}


def test_a_history_stored_before_the_migration_is_backfilled_and_continues(settings, warehouse, monkeypatch) -> None:
    """Half of each chain stored before 0023 (no previous_*), a quarter between 0023 and 0028, the rest after."""
    from vigie.warehouse import migrations

    old = settings.warehouse.model_copy(update={"database": f"{settings.warehouse.database}_old"})
    db = old.database
    events = _stream(6, 45)
    length: dict[tuple, int] = {}
    for e in events:
        length[(e.student_id, e.skill_code)] = max(length.get((e.student_id, e.skill_code), 0), e.attempts)
    share = [e.attempts / length[(e.student_id, e.skill_code)] for e in events]
    unchained = [e for e, s in zip(events, share, strict=True) if s <= 0.5]
    chained = [e for e, s in zip(events, share, strict=True) if 0.5 < s <= 0.75]
    after = [e for e, s in zip(events, share, strict=True) if s > 0.75]
    available = migrations.available
    try:
        monkeypatch.setattr(migrations, "available", lambda: [m for m in available() if m.version <= 22])
        monkeypatch.setattr(migrations, "refresh_views", lambda client, warehouse: [])
        migrations.migrate(warehouse, old)
        columns = [c for c in MASTERY_UPDATES_TABLE.columns if not c.startswith("previous_")]
        warehouse.insert(
            f"{db}.mastery_updates", [mastery_row(e)[: len(columns)] for e in unchained], column_names=columns
        )
        monkeypatch.setattr(migrations, "available", lambda: [m for m in available() if m.version <= 27])
        migrations.migrate(warehouse, old)
        store(warehouse, db, chained)
        monkeypatch.undo()
        migrations.migrate(warehouse, old)  # 0028: sums fed from the chained rows, then corrected
        assert _sums(warehouse, db) == _raw(warehouse, db)
        _store_shuffled(warehouse, db, after, 6)  # the chains go on, through the sink
        assert _sums(warehouse, db) == _raw(warehouse, db)
        assert gain_sums.drift(warehouse, db) == []
    finally:
        warehouse.command(f"DROP DATABASE IF EXISTS {db}")
