-- Valid xAPI statements the gateway kept without making them events: pseudonymised, with the reason
-- (unknown_actor, unmapped_activity, no_event, incomplete, contract). A replay that later maps one adds a
-- row with status 'mapped' (another event_id), so the history of a statement reads in order; the latest
-- row per statement says where it stands. academy and student_id are '' when the actor was not known, so
-- row policies and `vigie erase` reach these rows when they are.

CREATE TABLE IF NOT EXISTS ${database}.raw_statements
(
    academy       LowCardinality(String),
    platform      LowCardinality(String),
    student_id    String,
    statement_id  UUID,
    event_id      UUID,
    status        LowCardinality(String),
    reason_code   LowCardinality(String),
    reason        String,
    verb          LowCardinality(String),
    object_id     String,
    statement     String,
    stored        DateTime64(3, 'UTC'),
    recorded_at   DateTime64(3, 'UTC'),
    ingested_at   DateTime64(3, 'UTC') DEFAULT now64(3),
    INDEX idx_event_id event_id TYPE bloom_filter(0.001) GRANULARITY 4
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(stored)
ORDER BY (academy, platform, stored, statement_id, event_id)
TTL toDateTime(stored) + INTERVAL ${retention_days} DAY;
