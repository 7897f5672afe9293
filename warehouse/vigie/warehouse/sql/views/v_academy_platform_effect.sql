-- Mastery progress by main platform and intensity of use, per academy: each pupil's mean gain over
-- their skills (latest p_after minus first p_before), grouped by the platform they answered most on
-- and by how many days they were active. Group sizes in `pupils`; a correlation, not a causal effect.
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
        SELECT academy, student_id, any(level) AS level, argMax(platform, platform_answers) AS platform,
               length(arrayDistinct(arrayFlatten(groupArray(days)))) AS active_days
        FROM
        (
            SELECT academy, student_id, level, platform, count() AS platform_answers,
                   groupUniqArray(toDate(occurred_at, 'Europe/Paris')) AS days
            FROM ${database}.answers
            GROUP BY academy, student_id, level, platform
        )
        GROUP BY academy, student_id
    ) AS usage
    INNER JOIN
    (
        SELECT academy, student_id, avg(p_last - p_first) AS gain, avg(p_last) AS p_now
        FROM
        (
            SELECT academy, student_id, skill_code,
                   argMin(p_before, (occurred_at, attempts)) AS p_first,
                   argMax(p_after, (occurred_at, attempts)) AS p_last
            FROM ${database}.mastery_updates
            GROUP BY academy, student_id, skill_code
        )
        GROUP BY academy, student_id
    ) AS progress ON usage.academy = progress.academy AND usage.student_id = progress.student_id
)
GROUP BY academy, platform, usage_band, level
HAVING pupils >= ${min_group_size};
