-- Signals: the history of every SignalChanged (raised, changed, cleared), reasons parsed once into a
-- Nested column (reasons.code, reasons.text, reasons.value, reasons.threshold: parallel arrays), and
-- the current state per (pupil, signal_type): newest event time wins (ReplacingMergeTree version
-- occurred_at, read with FINAL). A signal is active while its current status is not 'cleared'.

CREATE TABLE IF NOT EXISTS ${database}.signals
(
    academy        LowCardinality(String),
    school_uai     LowCardinality(String),
    class_id       String,
    student_id     String,
    level          LowCardinality(String),
    signal_type    LowCardinality(String),
    status         LowCardinality(String),
    severity       LowCardinality(Nullable(String)),
    skill_code     Nullable(String),
    event_id       UUID,
    signal_id      UUID,
    occurred_at    DateTime64(3, 'UTC'),
    first_seen_at  DateTime64(3, 'UTC'),
    cleared_at     Nullable(DateTime64(3, 'UTC')),
    reasons Nested
    (
        code       String,
        text       String,
        value      Float64,
        threshold  Float64
    ),
    ingested_at    DateTime64(3, 'UTC') DEFAULT now64(3),
    INDEX idx_event_id event_id TYPE bloom_filter(0.001) GRANULARITY 4
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (academy, school_uai, class_id, student_id, signal_type, occurred_at, event_id)
TTL toDateTime(occurred_at) + INTERVAL ${retention_days} DAY;

CREATE TABLE IF NOT EXISTS ${database}.signals_current
(
    academy        LowCardinality(String),
    student_id     String,
    signal_type    LowCardinality(String),
    school_uai     LowCardinality(String),
    class_id       String,
    level          LowCardinality(String),
    status         LowCardinality(String),
    severity       LowCardinality(Nullable(String)),
    skill_code     Nullable(String),
    signal_id      UUID,
    event_id       UUID,
    reason_codes   Array(String),
    reason_texts   Array(String),
    first_seen_at  DateTime64(3, 'UTC'),
    cleared_at     Nullable(DateTime64(3, 'UTC')),
    occurred_at    DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(occurred_at)
ORDER BY (academy, student_id, signal_type)
TTL toDateTime(occurred_at) + INTERVAL ${retention_days} DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.mv_signals_current TO ${database}.signals_current AS
SELECT academy, student_id, signal_type, school_uai, class_id, level, status, severity, skill_code, signal_id,
       event_id, reasons.code AS reason_codes, reasons.text AS reason_texts, first_seen_at, cleared_at, occurred_at
FROM ${database}.signals;
