"""Synthetic warehouse history generated inside ClickHouse (``INSERT … SELECT … FROM numbers()``).

Used by ``bench.warehouse``: 50M answers cannot go through Python loops (or even Arrow batches built in
Python) in reasonable time, so every row is computed by the engine from its row number. Materialized
views run during the inserts, as in production. Each insert covers ``chunk`` rows, so memory stays
bounded whatever the total.

The universe is the same as the Python generator's: 6 academies × ``schools`` schools × 6 classes (one
level each) × 25 pupils; school days 07:00–16:00 UTC; a class uses one platform and works on two skills
per subject a day. Pupil, class and event ids are derived from numbers (md5 → 32 hex digits): they look
like the pseudonyms the warehouse holds, and reveal nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from vigie.core.contract.referential import CYCLE_OF_LEVEL, LEVELS
from vigie.core.contract.taxonomy import skills

ACADEMIES = ("lyon", "grenoble", "paris", "versailles", "lille", "bordeaux")
PLATFORMS = ("fondamentaux", "mathia", "lalilo")
CYCLES = ("cycle2", "cycle3", "cycle4", "seconde")
SIGNAL_TYPES = ("inactivity", "falling_success", "wheel_spinning", "rapid_guessing", "dropout_risk")
MS_PER_DAY = 86_400_000


@dataclass(frozen=True)
class Shape:
    """The size of the synthetic universe."""

    schools: int = 60  # per academy
    classes: int = 6  # per school
    pupils_per_class: int = 25
    days: int = 60  # school days of history, ending yesterday
    seed: int = 7

    @property
    def pupils(self) -> int:
        return len(ACADEMIES) * self.schools * self.classes * self.pupils_per_class


def _array(values: list[Any]) -> str:
    def literal(v: Any) -> str:
        if isinstance(v, str):
            return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"
        if isinstance(v, list):
            return _array(v)
        return str(v)

    return "[" + ",".join(literal(v) for v in values) + "]"


def school_days(days: int) -> list[int]:
    """Midnight UTC (ms) of the last ``days`` weekdays before today, oldest first."""
    today = datetime.now(UTC).date()
    found = [d for d in (today - timedelta(days=i) for i in range(1, 3 * days + 10)) if d.weekday() < 5][:days]
    return sorted((d - date(1970, 1, 1)).days * MS_PER_DAY for d in found)


def _pools() -> list[list[str]]:
    """Skill codes per (cycle, subject), indexed cycle * 2 + (subject is maths)."""
    pools = []
    for cycle in CYCLES:
        for subject in ("francais", "mathematiques"):
            pools.append(sorted(k for k, s in skills().items() if s.cycle == cycle and s.subject == subject))
    return pools


def _pupil_select(shape: Shape, pupil: str) -> str:
    """Columns that follow from a pupil number ``p`` (an expression naming it ``p``)."""
    per_academy = shape.schools * shape.classes * shape.pupils_per_class
    per_school = shape.classes * shape.pupils_per_class
    levels = list(LEVELS)
    cycle_of = [CYCLES.index(CYCLE_OF_LEVEL[level]) for level in levels]
    return f"""{pupil} AS p,
        intDiv(p, {per_academy}) AS a,
        intDiv(p, {per_school}) % {shape.schools} AS s,
        intDiv(p, {shape.pupils_per_class}) AS ci,
        cityHash64('level', ci) % {len(levels)} AS li,
        {_array(list(ACADEMIES))}[a + 1] AS academy,
        concat(leftPad(toString(10 + a), 2, '0'), leftPad(toString(s), 5, '0'), 'X') AS school_uai,
        lower(hex(MD5(concat('class-', toString(ci))))) AS class_id,
        lower(hex(MD5(concat('pupil-', toString(p))))) AS student_id,
        {_array(levels)}[li + 1] AS level,
        {_array(cycle_of)}[li + 1] AS cycle,
        {_array(list(PLATFORMS))}[ci % {len(PLATFORMS)} + 1] AS platform"""


def _time_skill_select(shape: Shape, salt: int) -> str:
    """Event time, subject and skill: two skills per subject and class a day, moving on each day."""
    days = school_days(shape.days)
    seed = shape.seed
    return f"""cityHash64({seed}, n, {salt}, 1) % {len(days)} AS d,
        fromUnixTimestamp64Milli(toInt64({_array(days)}[d + 1] + 25200000 + cityHash64({seed}, n, {salt}, 2)
            % 32400000), 'UTC') AS occurred_at,
        cityHash64({seed}, n, {salt}, 3) % 2 AS math,
        if(math = 1, 'mathematiques', 'francais') AS subject,
        {_array(_pools())}[cycle * 2 + math + 1] AS pool,
        pool[(d * 2 + ci * 5 + cityHash64({seed}, n, {salt}, 4) % 2) % length(pool) + 1] AS skill_code"""


def answers_sql(db: str, shape: Shape, start: int, count: int) -> str:
    seed = shape.seed
    return f"""INSERT INTO {db}.answers (academy, school_uai, class_id, student_id, teacher_id, level, subject,
    skill_code, item_id, platform, session_id, event_id, source_event_id, occurred_at, correct, score,
    response_time_ms, attempt, hints_used)
SELECT academy, school_uai, class_id, student_id, NULL, level, subject, skill_code,
    concat('item-', toString(cityHash64({seed}, n, 5) % 2000)),
    platform, concat('s-', toString(cityHash64({seed}, n, 6) % 1000000)), generateUUIDv4(n),
    concat('e-', toString(cityHash64({seed}, n, 7))), occurred_at, correct, toFloat32(correct),
    toUInt32(least(exp(randNormal(9.5, 0.6)), 3600000)), toUInt16(1 + cityHash64({seed}, n, 8) % 3),
    toUInt16(cityHash64({seed}, n, 9) % 3)
FROM (
    SELECT number AS n, {_pupil_select(shape, f"cityHash64({seed}, n, 0) % {shape.pupils}")},
        {_time_skill_select(shape, 1)},
        cityHash64({seed}, n, 10) % 100 < 65 AS correct
    FROM numbers({start}, {count})
)"""


def mastery_sql(db: str, shape: Shape, start: int, count: int) -> str:
    """Updates in no order yet, with a random step each, into a scratch table; ``chain_mastery`` then makes
    them chains as the stream emits them."""
    seed = shape.seed
    return f"""INSERT INTO {db}.{MASTERY_SCRATCH} (academy, school_uai, class_id, student_id, level, subject,
    skill_code, event_id, answer_event_id, occurred_at, correct, step)
SELECT academy, school_uai, class_id, student_id, level, subject, skill_code, generateUUIDv4(n),
    generateUUIDv4(n + 1), occurred_at, cityHash64({seed}, n, 20) % 100 < 65, toFloat32(randNormal(0.03, 0.05))
FROM (
    SELECT number AS n, {_pupil_select(shape, f"cityHash64({seed}, n, 11) % {shape.pupils}")},
        {_time_skill_select(shape, 2)}
    FROM numbers({start}, {count})
)"""


#: Where mastery_sql puts the updates before chain_mastery orders them.
MASTERY_SCRATCH = "bench_mastery_scratch"


def mastery_scratch_sql(db: str) -> str:
    return f"""CREATE TABLE IF NOT EXISTS {db}.{MASTERY_SCRATCH} (academy LowCardinality(String),
    school_uai LowCardinality(String), class_id String, student_id String, level LowCardinality(String),
    subject LowCardinality(String), skill_code LowCardinality(String), event_id UUID, answer_event_id UUID,
    occurred_at DateTime64(3, 'UTC'), correct Bool, step Float32)
ENGINE = MergeTree ORDER BY (student_id, skill_code, occurred_at)"""


def chain_sql(db: str, bucket: int, buckets: int) -> str:
    """One bucket of pupils' updates as the stream emits them: per pupil × skill in time order, attempts
    1, 2, …; the estimate walks from a per-pupil × skill start by the rows' steps (clamped to [0, 1]);
    p_before, previous_p_after and previous_mastered are the previous update's (window functions)."""
    return f"""INSERT INTO {db}.mastery_updates (academy, school_uai, class_id, student_id, level, subject,
    skill_code, event_id, answer_event_id, occurred_at, correct, p_before, p_after, attempts, mastered,
    params_version, model, confidence, previous_p_after, previous_mastered, previous_known)
SELECT academy, school_uai, class_id, student_id, level, subject, skill_code, event_id, answer_event_id,
    occurred_at, correct, if(attempts = 1, start, lagInFrame(p_after) OVER w) AS p_before, p_after, attempts,
    p_after >= 0.95 AS mastered, toUInt32(1), 'bkt', NULL,
    if(attempts = 1, NULL, lagInFrame(p_after) OVER w),
    if(attempts = 1, NULL, lagInFrame(p_after) OVER w >= 0.95), true
FROM (
    SELECT *, toUInt32(row_number() OVER w) AS attempts,
        toFloat32(least(1, greatest(0, start + sum(step) OVER w))) AS p_after
    FROM (
        SELECT *, toFloat32((cityHash64(student_id, skill_code) % 1000) / 2000) AS start
        FROM {db}.{MASTERY_SCRATCH} WHERE cityHash64(student_id) % {buckets} = {bucket}
    )
    WINDOW w AS (PARTITION BY student_id, skill_code ORDER BY occurred_at, event_id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
WINDOW w AS (PARTITION BY student_id, skill_code ORDER BY occurred_at, event_id
             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"""


def chain_mastery(client: Any, db: str, buckets: int = 8) -> None:
    """Scratch → mastery_updates, chained as the stream emits them (``chain_sql``), bucket by bucket."""
    for bucket in range(buckets):
        client.command(chain_sql(db, bucket, buckets))
    client.command(f"DROP TABLE {db}.{MASTERY_SCRATCH}")


def sessions_sql(db: str, shape: Shape, start: int, count: int) -> str:
    seed = shape.seed
    return f"""INSERT INTO {db}.session_events (academy, school_uai, class_id, student_id, level, platform,
    session_id, event_id, kind, outcome, answers_count, occurred_at)
SELECT academy, school_uai, class_id, student_id, level, platform,
    concat('s-', toString(cityHash64({seed}, n, 30) % 1000000)), generateUUIDv4(n),
    if(ended, 'session_ended', 'session_started'),
    if(ended, ['completed', 'abandoned', 'timeout'][cityHash64({seed}, n, 31) % 3 + 1], ''),
    toUInt32(cityHash64({seed}, n, 32) % 30), occurred_at
FROM (
    SELECT number AS n, {_pupil_select(shape, f"cityHash64({seed}, n, 12) % {shape.pupils}")},
        {_time_skill_select(shape, 3)},
        cityHash64({seed}, n, 33) % 2 = 1 AS ended
    FROM numbers({start}, {count})
)"""


def signals_sql(db: str, shape: Shape, start: int, count: int) -> str:
    """One signal per pupil for a quarter of the pupils (pupil 4n + k: all distinct)."""
    seed = shape.seed
    return f"""INSERT INTO {db}.signals (academy, school_uai, class_id, student_id, level, signal_type, status,
    severity, skill_code, event_id, signal_id, occurred_at, first_seen_at, cleared_at,
    `reasons.code`, `reasons.text`, `reasons.value`, `reasons.threshold`)
SELECT academy, school_uai, class_id, student_id, level,
    {_array(list(SIGNAL_TYPES))}[cityHash64({seed}, n, 40) % {len(SIGNAL_TYPES)} + 1],
    if(raised, 'raised', 'cleared'),
    if(raised, ['low', 'medium', 'high'][cityHash64({seed}, n, 41) % 3 + 1], NULL), NULL,
    generateUUIDv4(n), generateUUIDv4(n + 1), occurred_at, occurred_at, NULL,
    ['risk', 'days_inactive'], ['Risque estimé', 'Aucune activité'],
    [(cityHash64({seed}, n, 42) % 100) / 100, 12.0], [0.5, 7.0]
FROM (
    SELECT number AS n, {_pupil_select(shape, f"least(n * 4 + cityHash64({seed}, n, 13) % 4, {shape.pupils - 1})")},
        {_time_skill_select(shape, 4)},
        cityHash64({seed}, n, 43) % 10 < 7 AS raised
    FROM numbers({start}, {count})
)"""


Generator = Callable[[str, Shape, int, int], str]

#: table -> (generator, rows as a function of the answers wanted and the universe)
TABLES: dict[str, tuple[Generator, Callable[[int, Shape], int]]] = {
    "answers": (answers_sql, lambda rows, shape: rows),
    "mastery_updates": (mastery_sql, lambda rows, shape: rows // 4),
    "session_events": (sessions_sql, lambda rows, shape: rows // 10),
    "signals": (signals_sql, lambda rows, shape: shape.pupils // 4),
}


def generate(client: Any, db: str, shape: Shape, rows: int, chunk: int, verbose: bool = True) -> dict[str, Any]:
    """Fill the four history tables; returns per table (rows, seconds)."""
    loads: dict[str, Any] = {}
    for table, (make, how_many) in TABLES.items():
        total = how_many(rows, shape)
        started = time.perf_counter()
        done = 0
        if table == "mastery_updates":
            client.command(mastery_scratch_sql(db))
        while done < total:
            count = min(chunk, total - done)
            client.command(make(db, shape, done, count))
            done += count
            if verbose:
                spent = time.perf_counter() - started
                print(f"\r  {table}: {done:>11,}/{total:,} rows, {done / spent:>9,.0f} rows/s, {spent:6.1f}s", end="")
        if table == "mastery_updates":
            chain_mastery(client, db)
        if verbose:
            print(flush=True)
        loads[table] = (total, time.perf_counter() - started)
    return loads
