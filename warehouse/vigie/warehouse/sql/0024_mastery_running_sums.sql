-- Group mastery figures as running sums, so the academy and school views never read per-pupil rows
-- (v_academy_mastery_skill over all academies read the 4.2M pupil × skill rows of mastery_skill_current with
-- FINAL: 2.5 s at 50M answers; docs/performance.md).
--
-- agg_mastery_school_skill: per (academy, school, level, subject, skill), the number of pupils with an
-- estimate, the sum of their latest estimates (in 1e-9 units, an integer: + p_after − previous_p_after
-- telescopes EXACTLY to the latest estimate, whatever the order the updates arrive in, since the sink inserts
-- each update once: dedup by event_id), the number with mastered = true, and the latest update. An update adds
-- +1 pupil when it is the first (attempts = 1). The materialized view counts only the rows that carry their
-- previous estimate (previous_known, 0023). A few hundred rows per school once merged: the academy view sums
-- one academy's schools, the national one every school.
--
-- Where the sums can leave mastery_skill_current (a pupil's rows dropped by retention, a pupil changing
-- school, state lost by the stream, rows without previous_*), `vigie warehouse mastery-sums --reconcile` adds
-- the difference, and `vigie erase` retracts the pupil first (vigie.warehouse.mastery_sums, docs/warehouse.md).
--
-- Backfill: migrate feeds the view from the history (the chained rows telescope); then the last statement
-- adds, per group, what mastery_skill_current FINAL holds minus what the view wrote: all of it for a history
-- stored before 0023 (no chained rows), nothing where every chain is known (the same statement as reconcile).

CREATE TABLE IF NOT EXISTS ${database}.agg_mastery_school_skill
(
    academy      LowCardinality(String),
    school_uai   LowCardinality(String),
    level        LowCardinality(String),
    subject      LowCardinality(String),
    skill_code   LowCardinality(String),
    pupils       SimpleAggregateFunction(sum, Int64),
    p_sum_e9     SimpleAggregateFunction(sum, Int64),
    mastered     SimpleAggregateFunction(sum, Int64),
    last_update  SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
)
ENGINE = AggregatingMergeTree
ORDER BY (academy, school_uai, level, subject, skill_code)
TTL toDateTime(last_update) + INTERVAL ${retention_days} DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.mv_agg_mastery_school_skill TO ${database}.agg_mastery_school_skill AS
SELECT academy, school_uai, level, subject, skill_code,
       sum(toInt64(attempts <= 1 AND previous_p_after IS NULL)) AS pupils,
       sum(toInt64(round(toFloat64(p_after) * 1e9)) - toInt64(round(toFloat64(coalesce(previous_p_after, 0)) * 1e9))) AS p_sum_e9,
       sum(toInt64(mastered) - toInt64(coalesce(previous_mastered, false))) AS mastered,
       max(occurred_at) AS last_update
FROM ${database}.mastery_updates
WHERE previous_known
GROUP BY academy, school_uai, level, subject, skill_code;

INSERT INTO ${database}.agg_mastery_school_skill (academy, school_uai, level, subject, skill_code, pupils, p_sum_e9,
    mastered, last_update)
SELECT academy, school_uai, level, subject, skill_code, t.pupils - s.pupils AS pupils, t.p_sum_e9 - s.p_sum_e9 AS p_sum_e9,
       t.mastered - s.mastered AS mastered, greatest(t.last_update, s.last_update) AS last_update
FROM
(
    SELECT academy, school_uai, level, subject, skill_code, toInt64(count()) AS pupils,
           sum(toInt64(round(toFloat64(p) * 1e9))) AS p_sum_e9, toInt64(countIf(mastered)) AS mastered,
           max(occurred_at) AS last_update
    FROM ${database}.mastery_skill_current FINAL
    GROUP BY academy, school_uai, level, subject, skill_code
) AS t
FULL OUTER JOIN
(
    SELECT academy, school_uai, level, subject, skill_code, sum(pupils) AS pupils, sum(p_sum_e9) AS p_sum_e9,
           sum(mastered) AS mastered, max(last_update) AS last_update
    FROM ${database}.agg_mastery_school_skill
    GROUP BY academy, school_uai, level, subject, skill_code
) AS s USING (academy, school_uai, level, subject, skill_code)
WHERE pupils != 0 OR p_sum_e9 != 0 OR mastered != 0;
