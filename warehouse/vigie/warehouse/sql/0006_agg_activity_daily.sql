-- Answers per day and (academy, school, class, level, subject, skill, platform), so that dashboards
-- never scan raw answers. Additive counters are SimpleAggregateFunction(sum); distinct pupils are an
-- AggregateFunction(uniqExact, String) state (read with uniqExactMerge(pupils_state)): distinct counts
-- are not additive across rows, the state merges exactly. `day` is the calendar day in Europe/Paris.
-- Exact under redelivery because the sink inserts each answer once (the MV sees every insert).

CREATE TABLE IF NOT EXISTS ${database}.agg_activity_daily
(
    day                   Date,
    academy               LowCardinality(String),
    school_uai            LowCardinality(String),
    class_id              String,
    level                 LowCardinality(String),
    subject               LowCardinality(String),
    skill_code            LowCardinality(String),
    platform              LowCardinality(String),
    answers               SimpleAggregateFunction(sum, UInt64),
    correct_answers       SimpleAggregateFunction(sum, UInt64),
    response_time_ms_sum  SimpleAggregateFunction(sum, UInt64),
    hints_used_sum        SimpleAggregateFunction(sum, UInt64),
    pupils_state          AggregateFunction(uniqExact, String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (academy, school_uai, class_id, day, level, subject, skill_code, platform)
TTL day + INTERVAL ${retention_days} DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.mv_agg_activity_daily TO ${database}.agg_activity_daily AS
SELECT toDate(occurred_at, 'Europe/Paris') AS day, academy, school_uai, class_id, level, subject, skill_code, platform,
       count() AS answers, countIf(correct) AS correct_answers, sum(toUInt64(response_time_ms)) AS response_time_ms_sum,
       sum(toUInt64(hints_used)) AS hints_used_sum, uniqExactState(student_id) AS pupils_state
FROM ${database}.answers
GROUP BY day, academy, school_uai, class_id, level, subject, skill_code, platform;
