-- The platform effect per cell (academy, level, main platform, usage band) as sums, so the national panel
-- "Progrès de maîtrise selon la plateforme et l'usage" reads a few rows per academy instead of joining one row
-- per pupil of agg_pupil_usage FINAL and agg_pupil_mastery_sums FINAL (p95 326 ms at 50M answers for 54k
-- pupils; a national deployment has ~12M).
--
-- A pupil's cell is not additive: their main platform and their usage band change as they answer (a band is
-- a count of distinct active days), so no materialized view can move a pupil from one cell to another. The
-- cells are therefore RECONCILED, not fed: `vigie warehouse mastery-sums --reconcile` (daily, as for the
-- other running sums) adds, per cell, the per-pupil figures (the computation of v_academy_platform_effect,
-- retained pupils only) minus what the cells hold; `vigie erase` reconciles the pupil's academies once
-- their rows are gone (vigie.warehouse.effect_sums). So the cells show the pupils as of the last
-- reconcile (at most a day old), erasure and retention included; v_academy_platform_effect stays the live
-- per-pupil computation.
--
-- Per cell: pupils, and the sums over them of each pupil's mean gain ((latest − first) / skills), mean
-- estimate (1e-9 units: integers, so that + x − x cancels exactly), and active days; last_update (the newest
-- update or answer of the cell's pupils: the cell expires with it).
--
-- Backfill: the last statement is the reconcile.

CREATE TABLE IF NOT EXISTS ${database}.agg_platform_effect
(
    academy        LowCardinality(String),
    level          LowCardinality(String),
    platform       LowCardinality(String),
    usage_band     LowCardinality(String),
    pupils         SimpleAggregateFunction(sum, Int64),
    gain_sum_e9    SimpleAggregateFunction(sum, Int64),
    p_sum_e9       SimpleAggregateFunction(sum, Int64),
    days_sum       SimpleAggregateFunction(sum, Int64),
    last_update    SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
)
ENGINE = AggregatingMergeTree
ORDER BY (academy, level, platform, usage_band)
TTL toDateTime(last_update) + INTERVAL ${retention_days} DAY;

INSERT INTO ${database}.agg_platform_effect (academy, level, platform, usage_band, pupils, gain_sum_e9, p_sum_e9,
    days_sum, last_update)
SELECT academy, level, platform, usage_band, t.pupils - s.pupils AS pupils, t.gain_sum_e9 - s.gain_sum_e9 AS gain_sum_e9,
       t.p_sum_e9 - s.p_sum_e9 AS p_sum_e9, t.days_sum - s.days_sum AS days_sum,
       greatest(t.last_update, s.last_update) AS last_update
FROM
(
    SELECT academy, level, platform, usage_band, toInt64(count()) AS pupils, sum(gain_e9) AS gain_sum_e9,
           sum(p_e9) AS p_sum_e9, toInt64(sum(active_days)) AS days_sum, max(at) AS last_update
    FROM
    (
        SELECT u.academy AS academy, u.level AS level, u.platform AS platform, u.active_days AS active_days,
               multiIf(u.active_days >= 10, '10 jours ou plus', u.active_days >= 4, '4 à 9 jours',
                       'moins de 4 jours') AS usage_band,
               toInt64(round((m.latest_sum_e9 - m.first_sum_e9) / m.skills)) AS gain_e9,
               toInt64(round(m.latest_sum_e9 / m.skills)) AS p_e9, greatest(u.last_answer, m.last_update) AS at
        FROM
        (
            SELECT academy, student_id, level,
                   answers_by_platform.1[indexOf(answers_by_platform.2, arrayMax(answers_by_platform.2))] AS platform,
                   length(days) AS active_days, last_answer
            FROM ${database}.agg_pupil_usage FINAL
            WHERE toDateTime(last_answer) + INTERVAL ${retention_days} DAY > now()
        ) AS u
        INNER JOIN
        (
            SELECT academy, student_id, skills, first_sum_e9, latest_sum_e9, last_update
            FROM ${database}.agg_pupil_mastery_sums FINAL
            WHERE skills > 0 AND toDateTime(last_update) + INTERVAL ${retention_days} DAY > now()
        ) AS m ON u.academy = m.academy AND u.student_id = m.student_id
    )
    GROUP BY academy, level, platform, usage_band
) AS t
FULL OUTER JOIN
(
    SELECT academy, level, platform, usage_band, sum(pupils) AS pupils, sum(gain_sum_e9) AS gain_sum_e9,
           sum(p_sum_e9) AS p_sum_e9, sum(days_sum) AS days_sum, max(last_update) AS last_update
    FROM ${database}.agg_platform_effect
    GROUP BY academy, level, platform, usage_band
) AS s USING (academy, level, platform, usage_band)
WHERE pupils != 0 OR gain_sum_e9 != 0 OR p_sum_e9 != 0 OR days_sum != 0;
