-- Mastery: the history of every estimate the stream published (one row per MasteryUpdated), and the
-- current estimate per (pupil, skill). Current = newest EVENT TIME wins, whatever the arrival order:
-- ReplacingMergeTree with occurred_at as its version keeps, at merge time, the row of the greatest
-- occurred_at per sort key, so a replayed old update cannot overwrite a newer one. Merges are
-- eventual: read it with FINAL (the views do), never with a bare SELECT.

CREATE TABLE IF NOT EXISTS ${database}.mastery_updates
(
    academy          LowCardinality(String),
    school_uai       LowCardinality(String),
    class_id         String,
    student_id       String,
    level            LowCardinality(String),
    subject          LowCardinality(String),
    skill_code       LowCardinality(String),
    event_id         UUID,
    answer_event_id  UUID,
    occurred_at      DateTime64(3, 'UTC'),
    correct          Bool,
    p_before         Float32,
    p_after          Float32,
    attempts         UInt32,
    mastered         Bool,
    params_version   UInt32,
    ingested_at      DateTime64(3, 'UTC') DEFAULT now64(3),
    INDEX idx_event_id event_id TYPE bloom_filter(0.001) GRANULARITY 4
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (academy, school_uai, class_id, student_id, skill_code, occurred_at, event_id)
TTL toDateTime(occurred_at) + INTERVAL ${retention_days} DAY;

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
    occurred_at      DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(occurred_at)
ORDER BY (academy, student_id, skill_code)
TTL toDateTime(occurred_at) + INTERVAL ${retention_days} DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.mv_mastery_current TO ${database}.mastery_current AS
SELECT academy, student_id, skill_code, school_uai, class_id, level, subject, p_after AS p, mastered, attempts,
       params_version, event_id, occurred_at
FROM ${database}.mastery_updates;
