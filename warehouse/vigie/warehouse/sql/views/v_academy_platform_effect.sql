-- Mastery progress by main platform and intensity of use, per academy: each pupil's mean gain over
-- their skills (latest p_after minus first p_before), grouped by the platform they answered most on
-- and by how many days they were active. Group sizes in `pupils`; a correlation, not a causal effect.
-- Reads the per-pupil state of migration 0021 (agg_pupil_platform, agg_pupil_progress), not the raw history:
-- the estimates are packed (16 low bits = p × 65535), see the migration. Read with FINAL: merged rows are
-- read as stored (one per pupil and platform, one per pupil), not re-aggregated map by map.
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
        SELECT academy, student_id, any(level) AS level, argMax(platform, answers) AS platform,
               groupBitmapMerge(days_state) AS active_days
        FROM ${database}.agg_pupil_platform FINAL
        GROUP BY academy, student_id
    ) AS usage
    INNER JOIN
    (
        SELECT academy, student_id,
               arrayAvg(arrayMap((f, l) -> (toInt64(bitAnd(l, 65535)) - toInt64(bitAnd(f, 65535))) / 65535,
                                 first_state.2, latest_state.2)) AS gain,
               arrayAvg(arrayMap(l -> bitAnd(l, 65535) / 65535, latest_state.2)) AS p_now
        FROM ${database}.agg_pupil_progress FINAL
    ) AS progress ON usage.academy = progress.academy AND usage.student_id = progress.student_id
)
GROUP BY academy, platform, usage_band, level
HAVING pupils >= ${min_group_size};
