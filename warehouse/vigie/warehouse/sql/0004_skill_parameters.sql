-- Calibrated BKT parameters per skill: their history, and the latest per skill (greatest
-- params_version wins; ReplacingMergeTree, read with FINAL). Parameters are national, not per
-- academy, and hold no pupil data: the one family of tables whose sort key cannot start with academy.
-- event_id is derived by the sink from (skill_code, params_version): SkillParameters carries none.

CREATE TABLE IF NOT EXISTS ${database}.skill_parameters
(
    skill_code      LowCardinality(String),
    params_version  UInt32,
    event_id        UUID,
    p_init          Float64,
    p_learn         Float64,
    p_guess         Float64,
    p_slip          Float64,
    half_life_days  Nullable(Float64),
    n_answers       UInt64,
    fitted_at       DateTime64(3, 'UTC'),
    ingested_at     DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
ORDER BY (skill_code, params_version, event_id)
TTL toDateTime(fitted_at) + INTERVAL ${retention_days} DAY;

CREATE TABLE IF NOT EXISTS ${database}.skill_parameters_current
(
    skill_code      LowCardinality(String),
    params_version  UInt32,
    p_init          Float64,
    p_learn         Float64,
    p_guess         Float64,
    p_slip          Float64,
    half_life_days  Nullable(Float64),
    n_answers       UInt64,
    fitted_at       DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(params_version)
ORDER BY skill_code
TTL toDateTime(fitted_at) + INTERVAL ${retention_days} DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.mv_skill_parameters_current TO ${database}.skill_parameters_current AS
SELECT skill_code, params_version, p_init, p_learn, p_guess, p_slip, half_life_days, n_answers, fitted_at
FROM ${database}.skill_parameters;
