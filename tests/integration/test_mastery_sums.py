"""The running sums of group mastery (agg_mastery_school_skill, migration 0023) equal the per-pupil computation
(each pupil's latest estimate in mastery_skill_current FINAL, grouped), on random streams written by the
sink's path in random order, after a migration of a history stored without previous_*, after an erasure, and
after retention (reconcile)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from tests import factories, factories_warehouse
from tests.integration.warehouse_data import store
from vigie.warehouse import mastery_sums
from vigie.warehouse.rows import MASTERY_UPDATES_TABLE, mastery_row

pytestmark = pytest.mark.integration

SKILLS = ("C3-MA-NOM-01", "C3-MA-NOM-02", "C3-FR-LEC-01")
SCHOOLS = {"lyon": ("0691234A", "0695678B"), "grenoble": ("0381234C",)}


def _stream(seed: int, pupils: int, *, movers: bool, start: datetime | None = None) -> list:
    """Chains of updates per pupil × skill as the stream emits them (attempts 1, 2, …, previous_* filled);
    with ``movers``, some pupils of lyon change school halfway."""
    rng = random.Random(seed)
    start = start or factories.BASE_TIME
    events = []
    for n in range(pupils):
        academy = ("lyon", "grenoble")[n % 3 == 2]
        school = rng.choice(SCHOOLS[academy])
        where = {
            "academy": academy,
            "school_uai": school,
            "student_id": factories.student(seed * 1000 + n),
            "class_id": factories.PSEUDONYMS.school_class(f"{school}-{n % 2}"),
        }
        moves = movers and academy == "lyon" and n % 4 == 0
        for skill in rng.sample(SKILLS, rng.randint(1, len(SKILLS))):
            p = rng.random() * 0.5
            length = rng.randint(1, 6)
            for attempt in range(1, length + 1):
                if moves and attempt == length // 2 + 1 and length > 1:
                    other = next(s for s in SCHOOLS["lyon"] if s != where["school_uai"])
                    where = {**where, "school_uai": other}
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


def _per_pupil(client, db: str, grain: str) -> list[tuple]:
    return client.query(
        f"SELECT {grain}, count(), sum(toInt64(round(toFloat64(p) * 1e9))), countIf(mastered)"
        f" FROM {db}.mastery_skill_current FINAL GROUP BY {grain} ORDER BY {grain}"
    ).result_rows


def _sums(client, db: str, grain: str) -> list[tuple]:
    return client.query(
        f"SELECT {grain}, sum(pupils), sum(p_sum_e9), sum(mastered) FROM {db}.agg_mastery_school_skill"
        f" GROUP BY {grain} HAVING sum(pupils) != 0 OR sum(p_sum_e9) != 0 ORDER BY {grain}"
    ).result_rows


ACADEMY = "academy, level, subject, skill_code"
SCHOOL = "academy, school_uai, level, subject, skill_code"


def _store_shuffled(client, db: str, events: list, seed: int) -> None:
    """In random order (updates of a chain arrive out of order, lower attempts after higher), in batches,
    one batch redelivered (the sink skips it: each update is inserted once)."""
    shuffled = events[:]
    random.Random(seed).shuffle(shuffled)
    batches = [shuffled[i : i + 37] for i in range(0, len(shuffled), 37)]
    for batch in batches:
        store(client, db, batch)
    inserted, skipped = store(client, db, batches[1])["mastery_updates"]
    assert (inserted, skipped) == (0, len(batches[1]))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sums_equal_the_per_pupil_latest_estimates_whatever_the_arrival_order(settings, warehouse, seed) -> None:
    db = settings.warehouse.database
    events = _stream(seed, 60, movers=False)
    _store_shuffled(warehouse, db, events, seed)
    for grain in (ACADEMY, SCHOOL):
        expected = _per_pupil(warehouse, db, grain)
        assert expected and _sums(warehouse, db, grain) == expected, grain
    # the views read the sums: same groups, same figures, small groups hidden as before
    k = settings.warehouse.min_group_size
    got = warehouse.query(
        f"SELECT {ACADEMY}, pupils, mean_p, mastered FROM {db}.v_academy_mastery_skill ORDER BY {ACADEMY}"
    ).result_rows
    reference = [r for r in _per_pupil(warehouse, db, ACADEMY) if r[4] >= k]
    assert reference and [(*r[:5], r[6]) for r in got] == [(*r[:5], r[6]) for r in reference]
    assert [r[5] for r in got] == pytest.approx([r[5] / 1e9 / r[4] for r in reference], abs=1e-9)
    assert mastery_sums.drift(warehouse, db) == []


def test_a_pupil_changing_school_is_exact_per_academy_and_reconciled_per_school(
    settings, warehouse, monkeypatch
) -> None:
    from typer.testing import CliRunner

    from vigie.cli import app

    db = settings.warehouse.database
    _store_shuffled(warehouse, db, _stream(4, 60, movers=True), 4)
    assert _sums(warehouse, db, ACADEMY) == _per_pupil(warehouse, db, ACADEMY)  # telescopes within the academy
    drifted = mastery_sums.drift(warehouse, db)
    assert drifted and {d.group[0] for d in drifted} == {"lyon"}  # the chain cannot see the previous school
    monkeypatch.setenv("VIGIE_STATE_DIR", str(settings.state_dir))  # the engine this process already opened
    monkeypatch.setenv("VIGIE_WAREHOUSE__DATABASE", db)
    shown = CliRunner().invoke(app, ["warehouse", "mastery-sums"])
    assert shown.exit_code == 0 and f"{len(drifted)} group(s)" in shown.stdout, shown.output
    fixed = CliRunner().invoke(app, ["warehouse", "mastery-sums", "--reconcile"])
    assert fixed.exit_code == 0 and f"{len(drifted)} group(s)" in fixed.stdout, fixed.output
    assert _sums(warehouse, db, SCHOOL) == _per_pupil(warehouse, db, SCHOOL)
    assert mastery_sums.drift(warehouse, db) == [] and mastery_sums.reconcile(warehouse, db) == 0


def test_a_history_stored_before_the_migration_is_backfilled_and_continues(settings, warehouse, monkeypatch) -> None:
    from vigie.warehouse import migrations

    old = settings.warehouse.model_copy(update={"database": f"{settings.warehouse.database}_old"})
    db = old.database
    events = _stream(5, 60, movers=False)
    chains: dict[tuple, int] = {}
    for e in events:
        key = (e.student_id, e.skill_code)
        chains[key] = max(chains.get(key, 0), e.attempts)
    # before: the updates up to each chain's middle, stored by the sink of migration 0022 (no previous_*)
    before = [e for e in events if e.attempts <= (chains[(e.student_id, e.skill_code)] + 1) // 2]
    after = [e for e in events if e not in before]
    available = migrations.available
    try:
        monkeypatch.setattr(migrations, "available", lambda: [m for m in available() if m.version <= 22])
        monkeypatch.setattr(migrations, "refresh_views", lambda client, warehouse: [])
        migrations.migrate(warehouse, old)
        columns = [c for c in MASTERY_UPDATES_TABLE.columns if not c.startswith("previous_")]
        rows = [mastery_row(e)[: len(columns)] for e in before]
        warehouse.insert(f"{db}.mastery_updates", rows, column_names=columns)
        monkeypatch.undo()
        migrations.migrate(warehouse, old)  # 0023: columns, sums backfilled from mastery_skill_current
        for grain in (ACADEMY, SCHOOL):
            assert _sums(warehouse, db, grain) == _per_pupil(warehouse, db, grain), grain
        stored = warehouse.query(f"SELECT countIf(previous_known), count() FROM {db}.mastery_updates").result_rows
        assert stored == [(0, len(before))]
        _store_shuffled(warehouse, db, after, 5)  # the chains go on, through the sink
        for grain in (ACADEMY, SCHOOL):
            assert _sums(warehouse, db, grain) == _per_pupil(warehouse, db, grain), grain
    finally:
        warehouse.command(f"DROP DATABASE IF EXISTS {db}")


def test_retention_leaves_the_sums_with_the_expired_pupils(settings, warehouse) -> None:
    db = settings.warehouse.database
    days = settings.warehouse.retention_days
    recent = _stream(6, 30, movers=False, start=datetime.now(UTC) - timedelta(days=20))
    expired = _stream(7, 30, movers=False, start=datetime.now(UTC) - timedelta(days=days + 30))
    _store_shuffled(warehouse, db, recent + expired, 6)
    warehouse.command(f"OPTIMIZE TABLE {db}.mastery_skill_current FINAL")  # TTL: the expired rows are dropped
    assert mastery_sums.drift(warehouse, db, days)  # …which the sums still count
    assert mastery_sums.reconcile(warehouse, db, days) > 0
    for grain in (ACADEMY, SCHOOL):
        assert _sums(warehouse, db, grain) == _per_pupil(warehouse, db, grain), grain
    pupils = warehouse.query(f"SELECT sum(pupils) FROM {db}.agg_mastery_school_skill").result_rows[0][0]
    assert pupils == len({(e.student_id, e.skill_code) for e in recent})


def test_the_stream_processors_updates_keep_the_sums_exact(settings, warehouse) -> None:
    """The mastery processor's own updates (previous_* as the stream fills them), stored in random order."""
    from vigie.stream.mastery.params import ParameterBook
    from vigie.stream.mastery.processor import MasteryProcessor, decoded_updates

    db = settings.warehouse.database
    rng = random.Random(8)
    answers = []
    for n in range(40):
        school = SCHOOLS["lyon"][n % 2]
        where = {
            "school_uai": school,
            "student_id": factories.student(8000 + n),
            "class_id": factories.PSEUDONYMS.school_class(f"{school}-{n % 3}"),
        }
        for i in range(rng.randint(1, 12)):
            skill = rng.choice(SKILLS)
            answers.append(
                factories.answer(
                    **where,
                    skill_code=skill,
                    subject="francais" if "-FR-" in skill else "mathematiques",
                    correct=rng.random() < 0.6,
                    occurred_at=factories.BASE_TIME + timedelta(minutes=10 * i + n),
                )
            )
    processor = MasteryProcessor({}, ParameterBook(), threshold=settings.stream.mastery_threshold)
    updates = [
        u
        for start in range(0, len(answers), 50)
        for u in decoded_updates(processor.process(answers[start : start + 50]))
    ]
    assert any(u.previous_p_after is not None for u in updates)
    _store_shuffled(warehouse, db, updates, 8)
    for grain in (ACADEMY, SCHOOL):
        expected = _per_pupil(warehouse, db, grain)
        assert expected and _sums(warehouse, db, grain) == expected, grain
