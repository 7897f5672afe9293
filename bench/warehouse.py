"""Warehouse benchmark: bulk-generate history (answers, mastery updates, sessions, signals) inside the real
ClickHouse engine, then time every query the four dashboards send (p50/p95) and the analyst examples.

    .venv/bin/python -m bench.warehouse --rows 50000000 [--keep DIR]
    .venv/bin/python -m bench.warehouse --reuse DIR     # migrate a kept warehouse, then time it again

Rows are computed by the engine from ``numbers()`` (``bench.warehouse_data``), ``--chunk`` rows per
``INSERT … SELECT`` so memory stays bounded; materialized views run during the inserts, as in production.
The dashboards' queries are their panels' and variables' SQL expanded as Grafana would
(``vigie.dashboards.macros``). Figures go to ``bench/results/latest.json`` (``dashboard_query_p95_ms_max``,
``warehouse_answers``, each query's p50/p95). The engine lives in a temporary folder, deleted at the end
(``--keep`` to keep it).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from vigie.core.contract.referential import CYCLE_OF_LEVEL, LEVELS
from vigie.core.contract.taxonomy import skills
from vigie.core.settings import VigieSettings

ACADEMIES = ("lyon", "grenoble", "paris", "versailles", "lille", "bordeaux")
PLATFORMS = ("fondamentaux", "mathia", "lalilo")
MS_PER_DAY = 86_400_000


@dataclass(frozen=True)
class Universe:
    """Who can answer: academies > schools > classes (one level each) > pupils."""

    pupil_academy: pa.Array
    pupil_school: pa.Array
    pupil_class: pa.Array
    pupil_student: pa.Array
    pupil_level: pa.Array
    pupil_cycle: np.ndarray  # index into CYCLES
    pupil_class_index: np.ndarray  # a class's number: its platform, and the skills it works on each day
    days_ms: np.ndarray  # school days (UTC midnight, ms)
    skills_by: dict[tuple[int, str], pa.Array]  # (cycle index, subject) -> codes
    pupils: int


CYCLES = ("cycle2", "cycle3", "cycle4", "seconde")


def universe(
    rng: np.random.Generator, schools_per_academy: int, classes_per_school: int, pupils_per_class: int, days: int
) -> Universe:
    academy, school, klass, student, level, class_index = [], [], [], [], [], []
    for a, code in enumerate(ACADEMIES):
        for s in range(schools_per_academy):
            uai = f"{10 + a:02d}{s:05d}X"
            for c in range(classes_per_school):
                lvl = LEVELS[int(rng.integers(0, len(LEVELS)))]
                class_id = uuid.uuid5(uuid.NAMESPACE_OID, f"class-{uai}-{c}").hex
                for p in range(pupils_per_class):
                    academy.append(code)
                    school.append(uai)
                    klass.append(class_id)
                    level.append(lvl)
                    class_index.append(len(class_index) // pupils_per_class)
                    student.append(uuid.uuid5(uuid.NAMESPACE_OID, f"pupil-{uai}-{c}-{p}").hex)
    today = datetime.now(UTC).date()
    school_days = [d for d in (today - timedelta(days=i) for i in range(1, 400)) if d.weekday() < 5][:days]
    epoch = date(1970, 1, 1)
    days_ms = np.array(sorted((d - epoch).days * MS_PER_DAY for d in school_days), dtype=np.int64)
    skills_by: dict[tuple[int, str], pa.Array] = {}
    for ci, cycle in enumerate(CYCLES):
        for subject in ("francais", "mathematiques"):
            codes = sorted(k for k, s in skills().items() if s.cycle == cycle and s.subject == subject)
            skills_by[(ci, subject)] = pa.array(codes)
    cycles = np.array([CYCLES.index(CYCLE_OF_LEVEL[lv]) for lv in level], dtype=np.int8)
    return Universe(
        pa.array(academy),
        pa.array(school),
        pa.array(klass),
        pa.array(student),
        pa.array(level),
        cycles,
        np.array(class_index, dtype=np.int64),
        days_ms,
        skills_by,
        len(student),
    )


def _uuids(rng: np.random.Generator, n: int) -> pa.Array:
    return pa.FixedSizeBinaryArray.from_buffers(pa.binary(16), n, [None, pa.py_buffer(rng.bytes(16 * n))])


def _times(rng: np.random.Generator, u: Universe, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(day index, event time): school days, 07:00-16:00 UTC (08:00-17:00 in Paris in winter)."""
    day = rng.integers(0, len(u.days_ms), n)
    return day, u.days_ms[day] + 7 * 3_600_000 + rng.integers(0, 9 * 3_600_000, n)


def _skills(rng: np.random.Generator, u: Universe, pupil: np.ndarray, day: np.ndarray) -> tuple[pa.Array, pa.Array]:
    """A subject and a skill of the pupil's cycle for each row. As in class, a class works on two skills
    per subject a day (the teacher's choice), which moves on from day to day."""
    n = len(pupil)
    subject_math = rng.random(n) < 0.5
    codes = np.empty(n, dtype=object)
    cycle = u.pupil_cycle[pupil]
    lesson = day * 2 + u.pupil_class_index[pupil] * 5 + rng.integers(0, 2, n)
    for (ci, subject), pool in u.skills_by.items():
        mask = (cycle == ci) & (subject_math == (subject == "mathematiques"))
        if mask.any():
            codes[mask] = pool.take(pa.array(lesson[mask] % len(pool))).to_numpy(zero_copy_only=False)
    subjects = np.where(subject_math, "mathematiques", "francais")
    return pa.array(subjects), pa.array(codes, pa.string())


def _platforms(u: Universe, pupil: np.ndarray) -> pa.Array:
    """Each class uses one platform."""
    return pa.array(np.array(PLATFORMS)[u.pupil_class_index[pupil] % len(PLATFORMS)])


def _pupil_columns(u: Universe, pupil: np.ndarray) -> dict[str, pa.Array]:
    idx = pa.array(pupil)
    return {
        "academy": u.pupil_academy.take(idx),
        "school_uai": u.pupil_school.take(idx),
        "class_id": u.pupil_class.take(idx),
        "student_id": u.pupil_student.take(idx),
        "level": u.pupil_level.take(idx),
    }


def answers_batch(rng: np.random.Generator, u: Universe, n: int) -> pa.Table:
    pupil = rng.integers(0, u.pupils, n)
    day, at = _times(rng, u, n)
    subject, skill = _skills(rng, u, pupil, day)
    correct = rng.random(n) < 0.65
    event_id = _uuids(rng, n)
    columns = _pupil_columns(u, pupil) | {
        "teacher_id": pa.nulls(n, pa.string()),
        "subject": subject,
        "skill_code": skill,
        "item_id": pa.array(np.char.add("item-", rng.integers(0, 2000, n).astype(str))),
        "platform": _platforms(u, pupil),
        "session_id": pa.array(np.char.add("s-", rng.integers(0, 1_000_000, n).astype(str))),
        "event_id": event_id,
        "source_event_id": pa.array(np.char.add("e-", rng.integers(0, 2**62, n).astype(str))),
        "occurred_at": pa.array(at, pa.timestamp("ms", tz="UTC")),
        "correct": pa.array(correct),
        "score": pa.array(correct.astype(np.float32)),
        "response_time_ms": pa.array(np.minimum(rng.lognormal(9.5, 0.6, n), 3_600_000).astype(np.uint32)),
        "attempt": pa.array(rng.integers(1, 4, n).astype(np.uint16)),
        "hints_used": pa.array(rng.integers(0, 3, n).astype(np.uint16)),
    }
    return pa.table(columns)


def mastery_batch(rng: np.random.Generator, u: Universe, n: int) -> pa.Table:
    pupil = rng.integers(0, u.pupils, n)
    day, at = _times(rng, u, n)
    subject, skill = _skills(rng, u, pupil, day)
    p_before = rng.beta(2, 2, n).astype(np.float32)
    p_after = np.clip(p_before + rng.normal(0.03, 0.05, n), 0, 1).astype(np.float32)
    return pa.table(
        _pupil_columns(u, pupil)
        | {
            "subject": subject,
            "skill_code": skill,
            "event_id": _uuids(rng, n),
            "answer_event_id": _uuids(rng, n),
            "occurred_at": pa.array(at, pa.timestamp("ms", tz="UTC")),
            "correct": pa.array(rng.random(n) < 0.65),
            "p_before": pa.array(p_before),
            "p_after": pa.array(p_after),
            "attempts": pa.array(rng.integers(1, 60, n).astype(np.uint32)),
            "mastered": pa.array(p_after >= 0.95),
            "params_version": pa.array(np.ones(n, dtype=np.uint32)),
        }
    )


def sessions_batch(rng: np.random.Generator, u: Universe, n: int) -> pa.Table:
    pupil = rng.integers(0, u.pupils, n)
    ended = rng.random(n) < 0.5
    outcome = np.where(ended, np.array(["completed", "abandoned", "timeout"])[rng.integers(0, 3, n)], "")
    return pa.table(
        _pupil_columns(u, pupil)
        | {
            "platform": _platforms(u, pupil),
            "session_id": pa.array(np.char.add("s-", rng.integers(0, 1_000_000, n).astype(str))),
            "event_id": _uuids(rng, n),
            "kind": pa.array(np.where(ended, "session_ended", "session_started")),
            "outcome": pa.array(outcome),
            "answers_count": pa.array(rng.integers(0, 30, n).astype(np.uint32)),
            "occurred_at": pa.array(_times(rng, u, n)[1], pa.timestamp("ms", tz="UTC")),
        }
    )


def signals_batch(rng: np.random.Generator, u: Universe, n: int) -> pa.Table:
    pupil = rng.choice(u.pupils, n, replace=False)
    at = _times(rng, u, n)[1]
    status = np.where(rng.random(n) < 0.7, "raised", "cleared")
    severity = pa.array(
        np.where(status == "raised", np.array(["low", "medium", "high"])[rng.integers(0, 3, n)], None), pa.string()
    )
    types = np.array(["inactivity", "falling_success", "wheel_spinning", "rapid_guessing", "abandoned_sessions"])
    reasons = pa.array([["days_inactive"]] * n, pa.list_(pa.string()))
    return pa.table(
        _pupil_columns(u, pupil)
        | {
            "signal_type": pa.array(types[rng.integers(0, len(types), n)]),
            "status": pa.array(status),
            "severity": severity,
            "skill_code": pa.nulls(n, pa.string()),
            "event_id": _uuids(rng, n),
            "signal_id": _uuids(rng, n),
            "occurred_at": pa.array(at, pa.timestamp("ms", tz="UTC")),
            "first_seen_at": pa.array(at, pa.timestamp("ms", tz="UTC")),
            "cleared_at": pa.nulls(n, pa.timestamp("ms", tz="UTC")),
            "reasons.code": reasons,
            "reasons.text": pa.array([["Aucune activité"]] * n, pa.list_(pa.string())),
            "reasons.value": pa.array([[12.0]] * n, pa.list_(pa.float64())),
            "reasons.threshold": pa.array([[7.0]] * n, pa.list_(pa.float64())),
        }
    )


def dashboard_queries(db: str, academy: str, school: str, class_id: str) -> dict[str, str]:
    """The queries dashboards run: the k-anonymous views (school/academy) and the class-level aggregates."""
    last30 = "day >= today() - 30"
    return {
        "v_academy_activity_daily (30 days)": f"SELECT day, sum(answers_count), sum(correct_count), max(pupils) "
        f"FROM {db}.v_academy_activity_daily WHERE academy = '{academy}' AND {last30} GROUP BY day ORDER BY day",
        "v_school_activity_daily (30 days)": f"SELECT day, subject, answers_count, success_rate, pupils "
        f"FROM {db}.v_school_activity_daily WHERE academy = '{academy}' AND school_uai = '{school}' AND {last30}",
        "v_school_activity_daily (all schools)": f"SELECT school_uai, sum(answers_count) FROM "
        f"{db}.v_school_activity_daily WHERE academy = '{academy}' AND {last30} GROUP BY school_uai",
        "v_academy_mastery_skill": f"SELECT * FROM {db}.v_academy_mastery_skill WHERE academy = '{academy}'",
        "v_school_mastery_skill": f"SELECT * FROM {db}.v_school_mastery_skill WHERE academy = '{academy}' "
        f"AND school_uai = '{school}'",
        "v_academy_at_risk": f"SELECT * FROM {db}.v_academy_at_risk WHERE academy = '{academy}'",
        "v_school_at_risk": f"SELECT * FROM {db}.v_school_at_risk WHERE academy = '{academy}'",
        "class: activity by skill (agg_activity_daily)": "SELECT skill_code, sum(answers), "
        "sum(correct_answers) / sum(answers), uniqExactMerge(pupils_state) FROM "
        f"{db}.agg_activity_daily WHERE academy = '{academy}' AND school_uai = '{school}' AND class_id = '{class_id}' "
        f"AND {last30} GROUP BY skill_code",
        "class: active pupils per day (agg_pupils_daily)": "SELECT day, uniqExactMerge(pupils_state), "
        f"sum(sessions_abandoned) FROM {db}.agg_pupils_daily WHERE academy = '{academy}' AND school_uai = '{school}' "
        f"AND class_id = '{class_id}' GROUP BY day ORDER BY day",
        "class: mastery grid (agg_mastery_class_skill)": "SELECT student_id, skill_code, argMaxMerge(p_state), "
        f"argMaxMerge(mastered_state) FROM {db}.agg_mastery_class_skill WHERE academy = '{academy}' "
        f"AND school_uai = '{school}' AND class_id = '{class_id}' GROUP BY student_id, skill_code",
        "academy: signals per day (agg_signals_daily)": "SELECT day, signal_type, sum(raised), sum(cleared) "
        f"FROM {db}.agg_signals_daily WHERE academy = '{academy}' AND {last30} GROUP BY day, signal_type",
        "class: current signals (signals_current FINAL)": "SELECT student_id, signal_type, severity, reason_texts "
        f"FROM {db}.signals_current FINAL WHERE academy = '{academy}' AND class_id = '{class_id}' "
        "AND status != 'cleared'",
        "class: current mastery (mastery_current FINAL)": "SELECT skill_code, avg(p), countIf(mastered) "
        f"FROM {db}.mastery_current FINAL WHERE academy = '{academy}' AND class_id = '{class_id}' GROUP BY skill_code",
        "(for contrast) academy per day from raw answers": "SELECT toDate(occurred_at, 'Europe/Paris') AS day, "
        f"count(), uniqExact(student_id) FROM {db}.answers WHERE academy = '{academy}' GROUP BY day",
    }


def time_queries(client, queries: dict[str, str], repeats: int, slow_ms: float = 20_000):
    """(name, p50, p95, rows) per query. A query slower than ``slow_ms`` on its first run is not repeated
    (its one time is both figures, and the name says so): at 50M answers a raw scan takes minutes."""
    results = []
    for name, sql in queries.items():
        timings, rows = [], 0
        for _ in range(repeats):
            t0 = time.perf_counter()
            rows = len(client.query(sql).result_rows)
            timings.append((time.perf_counter() - t0) * 1000)
            if timings[0] > slow_ms:
                name += " [1 run]"
                break
        results.append((name, float(np.percentile(timings, 50)), float(np.percentile(timings, 95)), rows))
    return results


def writer_rate(client, db: str, rng, u: Universe, n: int) -> tuple[float, int, int]:
    """The sink's own path (dedup lookup + insert of Python rows) on top of the loaded history."""
    from vigie.warehouse.rows import ANSWERS
    from vigie.warehouse.sink import WarehouseWriter

    batch = answers_batch(rng, u, n)
    columns = [batch.column(c).to_pylist() for c in ANSWERS.columns]
    event_ids = [uuid.UUID(bytes=b) for b in columns[ANSWERS.columns.index("event_id")]]
    columns[ANSWERS.columns.index("event_id")] = event_ids
    rows = {eid: list(row) for eid, row in zip(event_ids, zip(*columns, strict=True), strict=True)}
    writer = WarehouseWriter(client, db)
    t0 = time.perf_counter()
    inserted, _ = writer.write(ANSWERS, rows)
    first = time.perf_counter() - t0
    _, skipped = writer.write(ANSWERS, rows)  # redelivery of the same batch: all skipped
    return n / first, inserted, skipped


#: Migrations that create the raw history tables (and the current-state views on them; 14 and 23 add columns).
RAW_MIGRATIONS = (1, 2, 3, 4, 5, 14, 23)


@contextmanager
def _raw_tables_only():
    """Within: ``migrate`` applies only the raw tables' migrations, and creates no plain view."""
    from vigie.warehouse import migrations

    available, refresh = migrations.available, migrations.refresh_views
    migrations.available = lambda: [m for m in available() if m.version in RAW_MIGRATIONS]
    migrations.refresh_views = lambda client, warehouse: []
    try:
        yield
    finally:
        migrations.available, migrations.refresh_views = available, refresh


def dedup_probe(client, db: str, ids: int = 10_000, trials: int = 3) -> float:
    """Median ms of the sink's duplicate lookup (``WarehouseWriter.stored_ids``) for ``ids`` answer ids, half
    stored (spread over the history), half new, against the loaded warehouse."""
    from vigie.warehouse.rows import ANSWERS
    from vigie.warehouse.sink import WarehouseWriter

    known = [
        r[0]
        for r in client.query(
            f"SELECT event_id FROM {db}.answers WHERE cityHash64(event_id) % 997 = 5 LIMIT {ids // 2 * trials}"
        ).result_rows
    ]
    writer = WarehouseWriter(client, db)
    times = []
    for trial in range(trials):
        stored = known[trial * (ids // 2) : (trial + 1) * (ids // 2)]
        batch = stored + [uuid.uuid4() for _ in range(ids - len(stored))]
        t0 = time.perf_counter()
        found = writer.stored_ids(ANSWERS, batch)
        times.append((time.perf_counter() - t0) * 1000)
        if found != set(stored):
            raise AssertionError(f"duplicate lookup wrong: {len(found)} found of {len(stored)} stored")
    return float(np.median(times))


def dashboard_panels(client, db: str, academy: str) -> dict[str, str]:
    """Every query the four dashboards send for ``academy`` (its first school and class), over the last 30
    days: each variable's query, then each panel's, expanded as Grafana and the ClickHouse plugin do."""
    from vigie.dashboards.levels import all_dashboards
    from vigie.dashboards.macros import QueryContext, expand
    from vigie.dashboards.runner import resolve_variables

    end = datetime.now(UTC)
    begin = end - timedelta(days=30)
    queries: dict[str, str] = {}
    for spec in all_dashboards():
        ctx = resolve_variables(client, spec, db, begin, end, {"academy": academy})
        for var in spec.variables:
            earlier = {k: v for k, v in ctx.variables.items() if k == "database" or k != var.name}
            queries[f"{spec.level}: variable ${var.name}"] = expand(var.sql, QueryContext(begin, end, 86_400, earlier))
        for panel in spec.panels:
            queries[f"{spec.level}: {panel.title}"] = expand(panel.sql, ctx)
    return queries


def main(argv: list[str] | None = None) -> None:
    from bench.results import machine, record
    from bench.warehouse_data import Shape, generate

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="synthetic answers to load")
    parser.add_argument("--chunk", type=int, default=2_000_000, help="rows per INSERT … SELECT (bounds memory)")
    parser.add_argument("--repeats", type=int, default=7, help="runs of each query (>= 5)")
    parser.add_argument("--schools", type=int, default=60, help="schools per academy (6 academies)")
    parser.add_argument("--days", type=int, default=60, help="school days of history")
    parser.add_argument("--writer-rows", type=int, default=100_000, help="rows through WarehouseWriter")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, default=None, help="keep the engine folder here instead of a temp dir")
    parser.add_argument(
        "--reuse", type=Path, default=None, help="time an engine folder kept by --keep (migrated first), no load"
    )
    parser.add_argument("--no-record", action="store_true", help="do not write bench/results/latest.json")
    args = parser.parse_args(argv)
    started_on = machine()
    repeats = max(5, args.repeats)

    from vigie.warehouse.client import connect
    from vigie.warehouse.migrations import migrate

    state = args.reuse or args.keep or Path(tempfile.mkdtemp(prefix="vigie-bench-"))
    settings = VigieSettings(state_dir=state, warehouse={"database": "bench"})
    client = connect(settings)
    db = settings.warehouse.database
    shape = Shape(schools=args.schools, days=args.days, seed=args.seed)
    loads: dict = {}
    if not args.reuse:
        # History first, into the raw tables only (their own current-state views included); then the
        # remaining migrations create the aggregates and backfill each from the whole history in one
        # INSERT … SELECT, as `vigie warehouse migrate` does on a warehouse with history. The result is
        # the same as feeding the views insert by insert, in a fraction of the time.
        with _raw_tables_only():
            migrate(client, settings.warehouse)
        loads = generate(client, db, shape, args.rows, args.chunk)
    t0 = time.perf_counter()
    applied = migrate(client, settings.warehouse)
    migrate_s = time.perf_counter() - t0
    print(
        f"universe: {len(ACADEMIES)} academies, {len(ACADEMIES) * args.schools} schools, {shape.pupils:,} pupils, "
        f"{args.days} school days; engine at {state}; load average {started_on['load_avg_at_start']}"
    )
    if applied:
        names = ", ".join(f"{m.version:04d}_{m.name}" for m in applied)
        print(f"migrations applied (and their views backfilled) in {migrate_s:.1f}s: {names}", flush=True)
    try:
        from vigie.warehouse.mastery_sums import drift

        t0 = time.perf_counter()
        drifted = drift(client, db)
        print(
            f"mastery sums (agg_mastery_school_skill) vs each pupil's latest estimate (mastery_skill_current FINAL): "
            f"{len(drifted)} group(s) differ ({time.perf_counter() - t0:.1f}s)",
            flush=True,
        )
        from vigie.warehouse import effect_sums, gain_sums

        t0 = time.perf_counter()
        gains, cells = gain_sums.drift(client, db), effect_sums.drift(client, db)
        print(
            f"progress sums (agg_level_mastery_gain) vs the pupils' sums: {len(gains)} group(s) differ; platform"
            f" effect cells (agg_platform_effect) vs the per-pupil figures: {len(cells)} cell(s) differ"
            f" ({time.perf_counter() - t0:.1f}s)",
            flush=True,
        )
        rng = np.random.default_rng(args.seed)
        u = universe(rng, args.schools, 6, 25, args.days)
        lookup_ms = dedup_probe(client, db)
        print(f"duplicate lookup of 10,000 ids (half stored): median {lookup_ms:,.1f} ms", flush=True)
        rate, inserted, skipped = writer_rate(client, db, rng, u, args.writer_rows) if args.writer_rows else (0, 0, 0)

        academy = ACADEMIES[0]
        school, class_id = client.query(
            f"SELECT school_uai, class_id FROM {db}.answers WHERE academy = '{academy}' LIMIT 1"
        ).result_rows[0]
        answers_total = client.query(f"SELECT count() FROM {db}.answers").result_rows[0][0]
        sizes = client.query(
            "SELECT table, sum(rows), formatReadableSize(sum(bytes_on_disk)), count() FROM system.parts "
            f"WHERE database = '{db}' AND active GROUP BY table ORDER BY sum(rows) DESC"
        ).result_rows
        panels = time_queries(client, dashboard_panels(client, db, academy), repeats)
        extras = time_queries(client, dashboard_queries(db, academy, school, class_id), repeats)

        if loads:
            print("\nLoad (INSERT … SELECT from numbers() in the engine, materialized views included):")
            for table, (rows, seconds) in loads.items():
                print(f"  {table:18} {rows:>12,} rows  {rows / seconds:>11,.0f} rows/s  ({seconds:6.1f}s)")
        if args.writer_rows:
            print(
                f"  WarehouseWriter (sink path, dedup lookup on the loaded table): {rate:,.0f} rows/s "
                f"for {inserted:,} rows; redelivered batch: {skipped:,} skipped"
            )
        print("\nTables (active parts):")
        for table, rows, size, parts in sizes:
            print(f"  {table:30} {rows:>12,} rows {size:>11} {parts:>4} parts")
        print(f"\nDashboard queries ({repeats} runs each, academy {academy}, first school and class, 30 days):")
        print(f"  {'query':78} {'p50 ms':>9} {'p95 ms':>9} {'rows':>7}")
        for name, p50, p95, rows in panels:
            print(f"  {name[:78]:78} {p50:9.1f} {p95:9.1f} {rows:7}")
        print("\nAnalyst queries of docs/warehouse.md:")
        for name, p50, p95, rows in extras:
            print(f"  {name[:78]:78} {p50:9.1f} {p95:9.1f} {rows:7}")
        worst = max(panels, key=lambda r: r[2])
        print(f"\ndashboard_query_p95_ms_max = {worst[2]:.1f} ({worst[0]}), warehouse_answers = {answers_total:,}")
        if not args.no_record:
            figures = {
                "dashboard_query_p95_ms_max": round(worst[2], 1),
                "warehouse_answers": int(answers_total),
                "warehouse_dashboard_queries_ms": {
                    name: {"p50": round(p50, 1), "p95": round(p95, 1)} for name, p50, p95, _ in panels
                },
            }
            figures["dedup_lookup_ms_at_warehouse"] = round(lookup_ms, 1)
            if args.writer_rows:
                figures["warehouse_writer_rows_per_s"] = round(rate)
            print(f"recorded in {record('warehouse', figures, started_on)}")
    finally:
        if args.keep is None and args.reuse is None:
            shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
