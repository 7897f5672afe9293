-- Signal changes per day and (academy, school, class, level, signal_type, severity): how many were
-- raised, changed, cleared, by how many distinct pupils. severity is '' for cleared signals.

CREATE TABLE IF NOT EXISTS ${database}.agg_signals_daily
(
    day           Date,
    academy       LowCardinality(String),
    school_uai    LowCardinality(String),
    class_id      String,
    level         LowCardinality(String),
    signal_type   LowCardinality(String),
    severity      LowCardinality(String),
    raised        SimpleAggregateFunction(sum, UInt64),
    changed       SimpleAggregateFunction(sum, UInt64),
    cleared       SimpleAggregateFunction(sum, UInt64),
    pupils_state  AggregateFunction(uniqExact, String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (academy, school_uai, class_id, day, level, signal_type, severity)
TTL day + INTERVAL ${retention_days} DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.mv_agg_signals_daily TO ${database}.agg_signals_daily AS
SELECT toDate(occurred_at, 'Europe/Paris') AS day, academy, school_uai, class_id, level, signal_type,
       ifNull(severity, '') AS severity, countIf(status = 'raised') AS raised, countIf(status = 'changed') AS changed,
       countIf(status = 'cleared') AS cleared, uniqExactState(student_id) AS pupils_state
FROM ${database}.signals
GROUP BY day, academy, school_uai, class_id, level, signal_type, severity;
