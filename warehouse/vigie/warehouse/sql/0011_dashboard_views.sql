-- k-anonymous views the dashboards need beyond 0010: platforms, at-risk trend, classes of a school,
-- and the effect of platforms and uses on mastery progress. Same rule as 0010: every row describes a
-- group of at least ${min_group_size} pupils (`pupils`); smaller groups are removed, not nulled.
-- Written with the dashboards (issue 7).

CREATE OR REPLACE VIEW ${database}.v_school_platform_daily AS
SELECT day, academy, school_uai, level, platform,
       uniqExactMerge(pupils_state) AS pupils,
       sum(answers) AS answers_count,
       sum(sessions_started) AS sessions_started,
       sum(sessions_abandoned) AS sessions_abandoned
FROM ${database}.agg_pupils_daily
GROUP BY day, academy, school_uai, level, platform
HAVING pupils >= ${min_group_size};

CREATE OR REPLACE VIEW ${database}.v_academy_platform_daily AS
SELECT day, academy, level, platform,
       uniqExactMerge(pupils_state) AS pupils,
       sum(answers) AS answers_count,
       sum(sessions_started) AS sessions_started,
       sum(sessions_abandoned) AS sessions_abandoned
FROM ${database}.agg_pupils_daily
GROUP BY day, academy, level, platform
HAVING pupils >= ${min_group_size};

-- Signal changes per day against the day's active population (the group whose size k applies to).
CREATE OR REPLACE VIEW ${database}.v_school_signals_daily AS
SELECT population.day AS day, population.academy AS academy, population.school_uai AS school_uai,
       population.level AS level, population.pupils AS pupils,
       signals.n_raised AS signals_raised, signals.n_cleared AS signals_cleared,
       least(signals.pupils_signalled, population.pupils) AS pupils_signalled
FROM
(
    SELECT day, academy, school_uai, level, uniqExactMerge(pupils_state) AS pupils
    FROM ${database}.agg_pupils_daily
    GROUP BY day, academy, school_uai, level
) AS population
LEFT JOIN
(
    SELECT day, academy, school_uai, level, sum(raised) AS n_raised, sum(cleared) AS n_cleared,
           uniqExactMergeIf(pupils_state, raised > 0) AS pupils_signalled
    FROM ${database}.agg_signals_daily
    GROUP BY day, academy, school_uai, level
) AS signals ON population.day = signals.day AND population.academy = signals.academy
            AND population.school_uai = signals.school_uai AND population.level = signals.level
WHERE population.pupils >= ${min_group_size};

CREATE OR REPLACE VIEW ${database}.v_academy_signals_daily AS
SELECT population.day AS day, population.academy AS academy, population.level AS level,
       population.pupils AS pupils,
       signals.n_raised AS signals_raised, signals.n_cleared AS signals_cleared,
       least(signals.pupils_signalled, population.pupils) AS pupils_signalled
FROM
(
    SELECT day, academy, level, uniqExactMerge(pupils_state) AS pupils
    FROM ${database}.agg_pupils_daily
    GROUP BY day, academy, level
) AS population
LEFT JOIN
(
    SELECT day, academy, level, sum(raised) AS n_raised, sum(cleared) AS n_cleared,
           uniqExactMergeIf(pupils_state, raised > 0) AS pupils_signalled
    FROM ${database}.agg_signals_daily
    GROUP BY day, academy, level
) AS signals ON population.day = signals.day AND population.academy = signals.academy
            AND population.level = signals.level
WHERE population.pupils >= ${min_group_size};

-- One row per class of at least k pupils: what a school head sees of each class (never a pupil).
CREATE OR REPLACE VIEW ${database}.v_school_class_summary AS
SELECT population.academy AS academy, population.school_uai AS school_uai, population.class_id AS class_id,
       population.level AS level, population.pupils AS pupils, population.answers_count AS answers_count,
       population.last_day AS last_active_day,
       mastery.mean_p AS mean_p, mastery.mastered_share AS mastered_share,
       least(risk.at_risk, population.pupils) AS pupils_at_risk,
       pupils_at_risk / pupils AS at_risk_share
FROM
(
    SELECT academy, school_uai, class_id, level, uniqExactMerge(pupils_state) AS pupils,
           sum(answers) AS answers_count, max(day) AS last_day
    FROM ${database}.agg_pupils_daily
    GROUP BY academy, school_uai, class_id, level
) AS population
LEFT JOIN
(
    SELECT academy, school_uai, class_id, avg(p) AS mean_p, countIf(is_mastered) / count() AS mastered_share
    FROM
    (
        SELECT academy, school_uai, class_id, skill_code, student_id,
               argMaxMerge(p_state) AS p, argMaxMerge(mastered_state) AS is_mastered
        FROM ${database}.agg_mastery_class_skill
        GROUP BY academy, school_uai, class_id, skill_code, student_id
    )
    GROUP BY academy, school_uai, class_id
) AS mastery ON population.academy = mastery.academy AND population.school_uai = mastery.school_uai
             AND population.class_id = mastery.class_id
LEFT JOIN
(
    SELECT academy, school_uai, class_id, uniqExactIf(student_id, status != 'cleared') AS at_risk
    FROM ${database}.signals_current FINAL
    GROUP BY academy, school_uai, class_id
) AS risk ON population.academy = risk.academy AND population.school_uai = risk.school_uai
          AND population.class_id = risk.class_id
WHERE population.pupils >= ${min_group_size};

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
