-- Landing tables of what platforms send: one row per answer, one per session start/end.
-- Typed columns parsed once by the sink; academy first in every sort key (the tenant);
-- monthly partitions; TTL bounds retention. ReplacingMergeTree on event_id is a backstop:
-- the sink already skips event ids it has stored, so materialized views count each answer once.

CREATE TABLE IF NOT EXISTS ${database}.answers
(
    academy          LowCardinality(String),
    school_uai       LowCardinality(String),
    class_id         String,
    student_id       String,
    teacher_id       Nullable(String),
    level            LowCardinality(String),
    subject          LowCardinality(String),
    skill_code       LowCardinality(String),
    item_id          String,
    platform         LowCardinality(String),
    session_id       String,
    event_id         UUID,
    source_event_id  String,
    occurred_at      DateTime64(3, 'UTC'),
    correct          Bool,
    score            Float32,
    response_time_ms UInt32,
    attempt          UInt16,
    hints_used       UInt16,
    ingested_at      DateTime64(3, 'UTC') DEFAULT now64(3),
    INDEX idx_event_id event_id TYPE bloom_filter(0.001) GRANULARITY 4
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (academy, school_uai, class_id, student_id, skill_code, occurred_at, event_id)
TTL toDateTime(occurred_at) + INTERVAL ${retention_days} DAY;

CREATE TABLE IF NOT EXISTS ${database}.session_events
(
    academy         LowCardinality(String),
    school_uai      LowCardinality(String),
    class_id        String,
    student_id      String,
    level           LowCardinality(String),
    platform        LowCardinality(String),
    session_id      String,
    event_id        UUID,
    kind            LowCardinality(String),
    outcome         LowCardinality(String),
    answers_count   UInt32,
    occurred_at     DateTime64(3, 'UTC'),
    ingested_at     DateTime64(3, 'UTC') DEFAULT now64(3),
    INDEX idx_event_id event_id TYPE bloom_filter(0.001) GRANULARITY 4
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (academy, school_uai, class_id, student_id, occurred_at, event_id)
TTL toDateTime(occurred_at) + INTERVAL ${retention_days} DAY;
