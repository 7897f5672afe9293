-- Latest mastery per pupil, grouped by (academy, school, class, level, subject, skill). "Latest per
-- pupil" cannot be a plain counter fed by a materialized view (a pupil's newer estimate replaces the
-- older one, it does not add to it), so the table keeps one row per pupil with argMax states keyed by
-- (occurred_at, attempts): merging states picks the newest event whatever the insertion order, so
-- replays are harmless. Group figures (pupils, mean p, mastered) are computed at read time from
-- argMaxMerge, exactly. The pupil's id is in the table: `vigie erase` deletes their rows directly.

CREATE TABLE IF NOT EXISTS ${database}.agg_mastery_class_skill
(
    academy         LowCardinality(String),
    school_uai      LowCardinality(String),
    class_id        String,
    level           LowCardinality(String),
    subject         LowCardinality(String),
    skill_code      LowCardinality(String),
    student_id      String,
    p_state         AggregateFunction(argMax, Float32, Tuple(DateTime64(3, 'UTC'), UInt32)),
    mastered_state  AggregateFunction(argMax, Bool, Tuple(DateTime64(3, 'UTC'), UInt32)),
    updates         SimpleAggregateFunction(sum, UInt64),
    last_update     SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
)
ENGINE = AggregatingMergeTree
ORDER BY (academy, school_uai, class_id, level, subject, skill_code, student_id)
TTL toDateTime(last_update) + INTERVAL ${retention_days} DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.mv_agg_mastery_class_skill TO ${database}.agg_mastery_class_skill AS
SELECT academy, school_uai, class_id, level, subject, skill_code, student_id,
       argMaxState(p_after, (occurred_at, attempts)) AS p_state,
       argMaxState(mastered, (occurred_at, attempts)) AS mastered_state,
       count() AS updates, max(occurred_at) AS last_update
FROM ${database}.mastery_updates
GROUP BY academy, school_uai, class_id, level, subject, skill_code, student_id;
