-- Tables shaped for the dashboards' reads at 50M answers and more (bench.warehouse, docs/performance.md).
--
-- 1. mastery_current is re-keyed by class: (academy, school_uai, class_id, student_id, skill_code). The class
--    dashboard reads one class (and its class list one school); sorted by pupil, each of those reads scanned
--    the whole academy with FINAL. The current estimate is now the latest per pupil × skill within a class
--    (a pupil who changes class keeps their last estimate in the old class's table; the class dashboard
--    shows the pupils of that class). Same version (attempts, arrival order: 0017).
--
-- 2. mastery_skill_current: the latest estimate per pupil × skill, sorted for the group views
--    (academy, level, subject, skill_code, pupil), pupil = sipHash64(student_id). A ReplacingMergeTree read
--    with FINAL: merged parts are read as they are (no per-pupil aggregation state to merge, ~6× faster than
--    argMaxMerge over agg_mastery_class_skill in bench), and the group figures (pupils, mean, mastered) are
--    computed when reading, as before. The pupil's school and class are those of their latest update.
--    student_id is kept (not in the key) so `vigie erase` deletes the pupil's rows.
--
-- 3. agg_pupil_platform and agg_pupil_progress: per-pupil state behind v_academy_platform_effect, which
--    scanned the raw answers and mastery updates (minutes at 50M). agg_pupil_platform: answers per pupil and
--    platform, with the pupil's active days as a bitmap of day numbers (merged exactly across platforms).
--    agg_pupil_progress: per pupil, the first and the latest estimate of each skill, each packed in a UInt64
--    map value that orders like (occurred_at, attempts) — 39 bits of milliseconds since 2020 (to 2037),
--    9 bits of attempts (capped at 511: only breaks ties within one millisecond), 16 bits of the estimate
--    (p × 65535) — so minMap/maxMap keep the first and the latest estimate per skill, exactly as
--    argMin/argMax over (occurred_at, attempts) did, to 1/65535.

DROP VIEW IF EXISTS ${database}.mv_mastery_current;

DROP TABLE IF EXISTS ${database}.mastery_current;

CREATE TABLE IF NOT EXISTS ${database}.mastery_current
(
    academy          LowCardinality(String),
    school_uai       LowCardinality(String),
    class_id         String,
    student_id       String,
    skill_code       LowCardinality(String),
    level            LowCardinality(String),
    subject          LowCardinality(String),
    p                Float32,
    mastered         Bool,
    attempts         UInt32,
    params_version   UInt32,
    event_id         UUID,
    occurred_at      DateTime64(3, 'UTC'),
    model            LowCardinality(String) DEFAULT 'bkt',
    confidence       Nullable(Float32)
)
ENGINE = ReplacingMergeTree(attempts)
ORDER BY (academy, school_uai, class_id, student_id, skill_code)
TTL toDateTime(occurred_at) + INTERVAL ${retention_days} DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.mv_mastery_current TO ${database}.mastery_current AS
SELECT academy, school_uai, class_id, student_id, skill_code, level, subject, p_after AS p, mastered, attempts,
       params_version, event_id, occurred_at, model, confidence
FROM ${database}.mastery_updates;

CREATE TABLE IF NOT EXISTS ${database}.mastery_skill_current
(
    academy      LowCardinality(String),
    level        LowCardinality(String),
    subject      LowCardinality(String),
    skill_code   LowCardinality(String),
    pupil        UInt64,
    student_id   String,
    school_uai   LowCardinality(String),
    class_id     String,
    p            Float32,
    mastered     Bool,
    attempts     UInt32,
    occurred_at  DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(attempts)
ORDER BY (academy, level, subject, skill_code, pupil)
TTL toDateTime(occurred_at) + INTERVAL ${retention_days} DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.mv_mastery_skill_current TO ${database}.mastery_skill_current AS
SELECT academy, level, subject, skill_code, sipHash64(student_id) AS pupil, student_id, school_uai, class_id,
       p_after AS p, mastered, attempts, occurred_at
FROM ${database}.mastery_updates;

CREATE TABLE IF NOT EXISTS ${database}.agg_pupil_platform
(
    academy     LowCardinality(String),
    student_id  String,
    platform    LowCardinality(String),
    level       SimpleAggregateFunction(anyLast, LowCardinality(String)),
    answers     SimpleAggregateFunction(sum, UInt64),
    days_state  AggregateFunction(groupBitmap, UInt32),
    last_answer SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
)
ENGINE = AggregatingMergeTree
ORDER BY (academy, student_id, platform)
TTL toDateTime(last_answer) + INTERVAL ${retention_days} DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.mv_agg_pupil_platform TO ${database}.agg_pupil_platform AS
SELECT academy, student_id, platform, anyLast(level) AS level, count() AS answers,
       groupBitmapState(toUInt32(toDate(occurred_at, 'Europe/Paris'))) AS days_state, max(occurred_at) AS last_answer
FROM ${database}.answers
GROUP BY academy, student_id, platform;

CREATE TABLE IF NOT EXISTS ${database}.agg_pupil_progress
(
    academy      LowCardinality(String),
    student_id   String,
    first_state  SimpleAggregateFunction(minMap, Tuple(Array(String), Array(UInt64))),
    latest_state SimpleAggregateFunction(maxMap, Tuple(Array(String), Array(UInt64))),
    last_update  SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
)
ENGINE = AggregatingMergeTree
ORDER BY (academy, student_id)
TTL toDateTime(last_update) + INTERVAL ${retention_days} DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.mv_agg_pupil_progress TO ${database}.agg_pupil_progress AS
SELECT academy, student_id,
       minMap(([toString(skill_code)], [bitShiftLeft(toUInt64(greatest(toUnixTimestamp64Milli(occurred_at) - 1577836800000, 0)), 25)
            + bitShiftLeft(toUInt64(least(attempts, 511)), 16) + toUInt64(round(least(greatest(p_before, 0), 1) * 65535))])) AS first_state,
       maxMap(([toString(skill_code)], [bitShiftLeft(toUInt64(greatest(toUnixTimestamp64Milli(occurred_at) - 1577836800000, 0)), 25)
            + bitShiftLeft(toUInt64(least(attempts, 511)), 16) + toUInt64(round(least(greatest(p_after, 0), 1) * 65535))])) AS latest_state,
       max(occurred_at) AS last_update
FROM ${database}.mastery_updates
GROUP BY academy, student_id;
