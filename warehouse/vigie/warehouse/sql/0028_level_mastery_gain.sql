-- Mastery progress per (academy, level) as running sums, so the national panels "Carte des académies" and
-- "Activité et maîtrise par académie" never read a row per pupil (through v_academy_platform_effect they
-- joined one row per pupil of agg_pupil_usage FINAL and agg_pupil_mastery_sums FINAL: p95 773 ms at 50M
-- answers for 54k pupils; a national deployment has ~12M).
--
-- agg_level_mastery_gain: per (academy, level), the number of pupil × skill estimates (`skills`), the sum of
-- their first estimates (first_sum_e9: p_before of each chain's first update) and of their latest ones
-- (latest_sum_e9, kept as + p_after − previous_p_after), in 1e-9 units; the same expressions as
-- agg_pupil_mastery_sums (0026), summed per group instead of per pupil. Gain = (latest − first) / skills:
-- weighted by skills (every pupil × skill estimate counts once), no longer the mean of each pupil's mean.
-- A few rows per academy.
--
-- The reference is agg_pupil_mastery_sums FINAL (per pupil, retained), each pupil at the level of their
-- estimates in mastery_current (max(level): one value whatever the merge order). Where the sums leave it (retention,
-- a stream that lost a pupil's state, rows without previous_*, a pupil whose level changed), `vigie warehouse
-- mastery-sums --reconcile` adds the difference; `vigie erase` retracts the pupil first
-- (vigie.warehouse.gain_sums, docs/warehouse.md).
--
-- Backfill: migrate feeds the view from the history (chained rows telescope), then the last statement adds,
-- per group, the reference minus what the view wrote (the same statement as reconcile, without retention).

CREATE TABLE IF NOT EXISTS ${database}.agg_level_mastery_gain
(
    academy        LowCardinality(String),
    level          LowCardinality(String),
    skills         SimpleAggregateFunction(sum, Int64),
    first_sum_e9   SimpleAggregateFunction(sum, Int64),
    latest_sum_e9  SimpleAggregateFunction(sum, Int64),
    last_update    SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
)
ENGINE = AggregatingMergeTree
ORDER BY (academy, level)
TTL toDateTime(last_update) + INTERVAL ${retention_days} DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.mv_agg_level_mastery_gain TO ${database}.agg_level_mastery_gain AS
SELECT academy, level,
       sum(toInt64(attempts <= 1 AND previous_p_after IS NULL)) AS skills,
       sum(if(attempts <= 1 AND previous_p_after IS NULL, toInt64(round(toFloat64(p_before) * 1e9)), 0)) AS first_sum_e9,
       sum(toInt64(round(toFloat64(p_after) * 1e9)) - toInt64(round(toFloat64(coalesce(previous_p_after, 0)) * 1e9))) AS latest_sum_e9,
       max(occurred_at) AS last_update
FROM ${database}.mastery_updates
WHERE previous_known
GROUP BY academy, level;

INSERT INTO ${database}.agg_level_mastery_gain (academy, level, skills, first_sum_e9, latest_sum_e9, last_update)
SELECT academy, level, t.skills - s.skills AS skills, t.first_sum_e9 - s.first_sum_e9 AS first_sum_e9,
       t.latest_sum_e9 - s.latest_sum_e9 AS latest_sum_e9, greatest(t.last_update, s.last_update) AS last_update
FROM
(
    SELECT m.academy AS academy, l.level AS level, toInt64(sum(m.skills)) AS skills,
           toInt64(sum(m.first_sum_e9)) AS first_sum_e9, toInt64(sum(m.latest_sum_e9)) AS latest_sum_e9,
           max(m.last_update) AS last_update
    FROM
    (
        SELECT academy, student_id, skills, first_sum_e9, latest_sum_e9, last_update
        FROM ${database}.agg_pupil_mastery_sums FINAL
    ) AS m
    INNER JOIN
    (
        SELECT academy, student_id, max(level) AS level FROM ${database}.mastery_current GROUP BY academy, student_id
    ) AS l ON m.academy = l.academy AND m.student_id = l.student_id
    GROUP BY academy, level
) AS t
FULL OUTER JOIN
(
    SELECT academy, level, sum(skills) AS skills, sum(first_sum_e9) AS first_sum_e9,
           sum(latest_sum_e9) AS latest_sum_e9, max(last_update) AS last_update
    FROM ${database}.agg_level_mastery_gain
    GROUP BY academy, level
) AS s USING (academy, level)
WHERE skills != 0 OR first_sum_e9 != 0 OR latest_sum_e9 != 0;
