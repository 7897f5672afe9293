-- Mastery progress by main platform and intensity of use, per academy: each pupil's mean gain over
-- their skills (latest estimate minus first p_before), grouped by the platform they answered most on
-- and by how many days they were active. Group sizes in `pupils`; a correlation, not a causal effect.
-- Reads one row of numbers per pupil (migration 0026: agg_pupil_usage, agg_pupil_mastery_sums), not the raw
-- history nor per-skill maps. Read with FINAL: merged rows are read as stored, one per pupil.
CREATE OR REPLACE VIEW ${database}.v_academy_platform_effect AS
SELECT academy, platform, usage_band, level,
       count() AS pupils,
       avg(gain) AS mean_gain,
       avg(p_now) AS mean_p,
       avg(active_days) AS mean_active_days
FROM
(
    SELECT usage.academy AS academy, usage.student_id AS student_id, usage.level AS level,
           usage.platform AS platform, usage.active_days AS active_days,
           multiIf(usage.active_days >= 10, '10 jours ou plus', usage.active_days >= 4, '4 à 9 jours',
                   'moins de 4 jours') AS usage_band,
           progress.gain AS gain, progress.p_now AS p_now
    FROM
    (
        SELECT academy, student_id, level,
               answers_by_platform.1[indexOf(answers_by_platform.2, arrayMax(answers_by_platform.2))] AS platform,
               length(days) AS active_days
        FROM ${database}.agg_pupil_usage FINAL
    ) AS usage
    INNER JOIN
    (
        SELECT academy, student_id, (latest_sum_e9 - first_sum_e9) / 1e9 / skills AS gain,
               latest_sum_e9 / 1e9 / skills AS p_now
        FROM ${database}.agg_pupil_mastery_sums FINAL
        WHERE skills > 0
    ) AS progress ON usage.academy = progress.academy AND usage.student_id = progress.student_id
)
GROUP BY academy, platform, usage_band, level
HAVING pupils >= ${min_group_size};
