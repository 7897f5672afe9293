-- Inputs the stream rejected, with the reason and the original bytes (base64). academy and
-- student_id are read by the sink from the payload when it is JSON that carries them ('' otherwise),
-- so row policies and `vigie erase` reach dead letters too.

CREATE TABLE IF NOT EXISTS ${database}.dead_letters
(
    academy       LowCardinality(String),
    student_id    String,
    source_topic  LowCardinality(String),
    partition     UInt32,
    offset        UInt64,
    event_id      UUID,
    reason        String,
    error_type    LowCardinality(String),
    key           Nullable(String),
    payload_b64   String,
    received_at   DateTime64(3, 'UTC'),
    ingested_at   DateTime64(3, 'UTC') DEFAULT now64(3),
    INDEX idx_event_id event_id TYPE bloom_filter(0.001) GRANULARITY 4
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(received_at)
ORDER BY (academy, source_topic, received_at, event_id)
TTL toDateTime(received_at) + INTERVAL ${retention_days} DAY;
