-- Answers per day at the grain the school and academy views group by (agg_activity_daily is per class, skill
-- and platform: ~630k rows with a distinct-pupil state each at 50M answers, merged at every read of
-- v_school_activity_daily / v_academy_activity_daily: 0.3–0.7 s for an academy's schools, and the national
-- "Activité et maîtrise par académie"). Background merges leave one state per school (or academy), day, level
-- and subject. Fed by answers as agg_activity_daily; `vigie erase` rebuilds the pupil's (academy, day) rows
-- (no class column, see erase.py).

CREATE TABLE IF NOT EXISTS ${database}.agg_activity_daily_school
(
    day                   Date,
    academy               LowCardinality(String),
    school_uai            LowCardinality(String),
    level                 LowCardinality(String),
    subject               LowCardinality(String),
    answers               SimpleAggregateFunction(sum, UInt64),
    correct_answers       SimpleAggregateFunction(sum, UInt64),
    response_time_ms_sum  SimpleAggregateFunction(sum, UInt64),
    pupils_state          AggregateFunction(uniqExact, String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (academy, school_uai, day, level, subject)
TTL day + INTERVAL ${retention_days} DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.mv_agg_activity_daily_school TO ${database}.agg_activity_daily_school AS
SELECT toDate(occurred_at, 'Europe/Paris') AS day, academy, school_uai, level, subject,
       count() AS answers, countIf(correct) AS correct_answers, sum(toUInt64(response_time_ms)) AS response_time_ms_sum,
       uniqExactState(student_id) AS pupils_state
FROM ${database}.answers
GROUP BY day, academy, school_uai, level, subject;

CREATE TABLE IF NOT EXISTS ${database}.agg_activity_daily_academy
(
    day                   Date,
    academy               LowCardinality(String),
    level                 LowCardinality(String),
    subject               LowCardinality(String),
    answers               SimpleAggregateFunction(sum, UInt64),
    correct_answers       SimpleAggregateFunction(sum, UInt64),
    response_time_ms_sum  SimpleAggregateFunction(sum, UInt64),
    pupils_state          AggregateFunction(uniqExact, String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (academy, day, level, subject)
TTL day + INTERVAL ${retention_days} DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.mv_agg_activity_daily_academy TO ${database}.agg_activity_daily_academy AS
SELECT toDate(occurred_at, 'Europe/Paris') AS day, academy, level, subject,
       count() AS answers, countIf(correct) AS correct_answers, sum(toUInt64(response_time_ms)) AS response_time_ms_sum,
       uniqExactState(student_id) AS pupils_state
FROM ${database}.answers
GROUP BY day, academy, level, subject;
