-- Distinct active pupils per day at the academy's grain (academy, day, level, platform), for the national and
-- academy panels (v_academy_platform_daily: "Élèves actifs par jour", "Plateformes utilisées"). They merged
-- one uniqExact state per class, day and platform of agg_pupils_daily (~65k states for 30 days at 50M
-- answers, ~0.5 s); here the engine's background merges leave one state per academy, day, level and
-- platform, so the panel deserializes a few hundred states. The work left is the pupil-days themselves
-- (a distinct count is not additive: it cannot be a running sum). Fed by answers and session events as
-- agg_pupils_daily; `vigie erase` rebuilds the pupil's academy days (no class column: see erase.py).

CREATE TABLE IF NOT EXISTS ${database}.agg_pupils_daily_academy
(
    day                 Date,
    academy             LowCardinality(String),
    level               LowCardinality(String),
    platform            LowCardinality(String),
    pupils_state        AggregateFunction(uniqExact, String),
    answers             SimpleAggregateFunction(sum, UInt64),
    sessions_started    SimpleAggregateFunction(sum, UInt64),
    sessions_abandoned  SimpleAggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (academy, day, level, platform)
TTL day + INTERVAL ${retention_days} DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.mv_agg_pupils_daily_academy_answers TO ${database}.agg_pupils_daily_academy AS
SELECT toDate(occurred_at, 'Europe/Paris') AS day, academy, level, platform,
       uniqExactState(student_id) AS pupils_state, count() AS answers, toUInt64(0) AS sessions_started,
       toUInt64(0) AS sessions_abandoned
FROM ${database}.answers
GROUP BY day, academy, level, platform;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.mv_agg_pupils_daily_academy_sessions TO ${database}.agg_pupils_daily_academy AS
SELECT toDate(occurred_at, 'Europe/Paris') AS day, academy, level, platform,
       uniqExactState(student_id) AS pupils_state, toUInt64(0) AS answers,
       countIf(kind = 'session_started') AS sessions_started,
       countIf(kind = 'session_ended' AND outcome IN ('abandoned', 'timeout')) AS sessions_abandoned
FROM ${database}.session_events
GROUP BY day, academy, level, platform;
