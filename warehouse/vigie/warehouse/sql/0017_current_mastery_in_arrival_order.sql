-- Late answers, by design: ARRIVAL ORDER is the truth. The stream applies a pupil's answers in the order
-- they reach their partition (an answer synced from an offline session updates the estimate when it
-- arrives, whatever its event time), and each MasteryUpdated carries `attempts`: the number of answers
-- the stream applied to that (pupil, skill), which grows in arrival order and is re-emitted unchanged for
-- a duplicate. So the current estimate is the update with the greatest `attempts`, not the one with the
-- newest occurred_at (which showed a stale estimate after offline answers, while the stream had moved on).
-- mastery_current and agg_mastery_class_skill are re-created with that version and refilled from the
-- mastery_updates history by their materialized views (migrate backfills a new view). mastery_current keeps
-- the learner model's columns of migration 0014 (model, confidence).

DROP VIEW IF EXISTS ${database}.mv_mastery_current;

DROP TABLE IF EXISTS ${database}.mastery_current;

CREATE TABLE IF NOT EXISTS ${database}.mastery_current
(
    academy          LowCardinality(String),
    student_id       String,
    skill_code       LowCardinality(String),
    school_uai       LowCardinality(String),
    class_id         String,
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
ORDER BY (academy, student_id, skill_code)
TTL toDateTime(occurred_at) + INTERVAL ${retention_days} DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.mv_mastery_current TO ${database}.mastery_current AS
SELECT academy, student_id, skill_code, school_uai, class_id, level, subject, p_after AS p, mastered, attempts,
       params_version, event_id, occurred_at, model, confidence
FROM ${database}.mastery_updates;

DROP VIEW IF EXISTS ${database}.mv_agg_mastery_class_skill;

DROP TABLE IF EXISTS ${database}.agg_mastery_class_skill;

CREATE TABLE IF NOT EXISTS ${database}.agg_mastery_class_skill
(
    academy         LowCardinality(String),
    school_uai      LowCardinality(String),
    class_id        String,
    level           LowCardinality(String),
    subject         LowCardinality(String),
    skill_code      LowCardinality(String),
    student_id      String,
    p_state         AggregateFunction(argMax, Float32, UInt32),
    mastered_state  AggregateFunction(argMax, Bool, UInt32),
    updates         SimpleAggregateFunction(sum, UInt64),
    last_update     SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
)
ENGINE = AggregatingMergeTree
ORDER BY (academy, school_uai, class_id, level, subject, skill_code, student_id)
TTL toDateTime(last_update) + INTERVAL ${retention_days} DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.mv_agg_mastery_class_skill TO ${database}.agg_mastery_class_skill AS
SELECT academy, school_uai, class_id, level, subject, skill_code, student_id,
       argMaxState(p_after, attempts) AS p_state,
       argMaxState(mastered, attempts) AS mastered_state,
       count() AS updates, max(occurred_at) AS last_update
FROM ${database}.mastery_updates
GROUP BY academy, school_uai, class_id, level, subject, skill_code, student_id;
