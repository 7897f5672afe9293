-- Distinct active pupils per day and (academy, school, class, level, platform): a pupil is active on
-- a day when they answered or opened a session. Two materialized views feed the one table (answers,
-- session_events); the uniqExact state merges them exactly, the counters add up.

CREATE TABLE IF NOT EXISTS ${database}.agg_pupils_daily
(
    day                 Date,
    academy             LowCardinality(String),
    school_uai          LowCardinality(String),
    class_id            String,
    level               LowCardinality(String),
    platform            LowCardinality(String),
    pupils_state        AggregateFunction(uniqExact, String),
    answers             SimpleAggregateFunction(sum, UInt64),
    sessions_started    SimpleAggregateFunction(sum, UInt64),
    sessions_completed  SimpleAggregateFunction(sum, UInt64),
    sessions_abandoned  SimpleAggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (academy, school_uai, class_id, day, level, platform)
TTL day + INTERVAL ${retention_days} DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.mv_agg_pupils_daily_answers TO ${database}.agg_pupils_daily AS
SELECT toDate(occurred_at, 'Europe/Paris') AS day, academy, school_uai, class_id, level, platform,
       uniqExactState(student_id) AS pupils_state, count() AS answers, toUInt64(0) AS sessions_started,
       toUInt64(0) AS sessions_completed, toUInt64(0) AS sessions_abandoned
FROM ${database}.answers
GROUP BY day, academy, school_uai, class_id, level, platform;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.mv_agg_pupils_daily_sessions TO ${database}.agg_pupils_daily AS
SELECT toDate(occurred_at, 'Europe/Paris') AS day, academy, school_uai, class_id, level, platform,
       uniqExactState(student_id) AS pupils_state, toUInt64(0) AS answers,
       countIf(kind = 'session_started') AS sessions_started,
       countIf(kind = 'session_ended' AND outcome = 'completed') AS sessions_completed,
       countIf(kind = 'session_ended' AND outcome IN ('abandoned', 'timeout')) AS sessions_abandoned
FROM ${database}.session_events
GROUP BY day, academy, school_uai, class_id, level, platform;
