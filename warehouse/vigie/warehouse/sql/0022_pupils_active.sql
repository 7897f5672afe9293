-- The population of the at-risk views (pupils active at any time in the retained history) as one row per
-- pupil and class, instead of merging every distinct-pupil state of agg_pupils_daily (one per class, day and
-- platform: ~280k states at 50M answers, ~1 s for the national panels). Fed by answers and session events,
-- as agg_pupils_daily; a pupil's row expires with their latest activity (retention); `vigie erase` deletes
-- it (student_id). Read with uniqExact(student_id) per group: unmerged rows of one pupil count once.

CREATE TABLE IF NOT EXISTS ${database}.pupils_active
(
    academy     LowCardinality(String),
    school_uai  LowCardinality(String),
    class_id    String,
    level       LowCardinality(String),
    student_id  String,
    last_seen   SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
)
ENGINE = AggregatingMergeTree
ORDER BY (academy, school_uai, class_id, level, student_id)
TTL toDateTime(last_seen) + INTERVAL ${retention_days} DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.mv_pupils_active_answers TO ${database}.pupils_active AS
SELECT academy, school_uai, class_id, level, student_id, max(occurred_at) AS last_seen
FROM ${database}.answers
GROUP BY academy, school_uai, class_id, level, student_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.mv_pupils_active_sessions TO ${database}.pupils_active AS
SELECT academy, school_uai, class_id, level, student_id, max(occurred_at) AS last_seen
FROM ${database}.session_events
GROUP BY academy, school_uai, class_id, level, student_id;
