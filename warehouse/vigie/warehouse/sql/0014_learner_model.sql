-- The learner model (issue 11). Mastery rows say which model produced p (bkt: P(known); learner:
-- P(next item right)) and, for the learner, the confidence behind it. Old rows read model 'bkt' and
-- confidence NULL. The current-state view is re-created to carry both columns.
-- skill_parameters_learner: every part (global, domain, skill) of every fitted learner model, as the
-- stream reads them from the skill-parameters topic; national, no pupil data (no academy key).

ALTER TABLE ${database}.mastery_updates
    ADD COLUMN IF NOT EXISTS model LowCardinality(String) DEFAULT 'bkt',
    ADD COLUMN IF NOT EXISTS confidence Nullable(Float32);

ALTER TABLE ${database}.mastery_current
    ADD COLUMN IF NOT EXISTS model LowCardinality(String) DEFAULT 'bkt',
    ADD COLUMN IF NOT EXISTS confidence Nullable(Float32);

DROP VIEW IF EXISTS ${database}.mv_mastery_current;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.mv_mastery_current TO ${database}.mastery_current AS
SELECT academy, student_id, skill_code, school_uai, class_id, level, subject, p_after AS p, mastered, attempts,
       params_version, event_id, occurred_at, model, confidence
FROM ${database}.mastery_updates;

CREATE TABLE IF NOT EXISTS ${database}.skill_parameters_learner
(
    scope           LowCardinality(String),
    key             String,
    params_version  UInt32,
    event_id        UUID,
    weights         Array(Float64),
    prior           Float64,
    half_life_days  Nullable(Float64),
    parts           UInt32,
    n_answers       UInt64,
    fitted_at       DateTime64(3, 'UTC'),
    ingested_at     DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
ORDER BY (scope, key, params_version, event_id)
TTL toDateTime(fitted_at) + INTERVAL ${retention_days} DAY;
