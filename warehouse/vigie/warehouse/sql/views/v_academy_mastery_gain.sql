-- Mastery progress per academy and level from the running sums of agg_level_mastery_gain (0028): no row per
-- pupil is read. mean_gain = (sum of latest estimates − sum of first p_before) / skills, over every pupil ×
-- skill estimate of the group: WEIGHTED BY SKILLS (a pupil with 8 skills counts 8 times), whereas
-- v_academy_platform_effect averages each pupil's own mean gain. mean_p likewise. Combine levels with
-- sum(mean_gain * skills) / sum(skills).
-- k-anonymity: the sums hold no pupil count, so the group is shown when one of its skills has at least k
-- pupils in the academy (agg_mastery_school_skill, as v_academy_mastery_skill); `pupils` is that largest
-- per-skill count: the group has AT LEAST that many pupils.
CREATE OR REPLACE VIEW ${database}.v_academy_mastery_gain AS
SELECT gain.academy AS academy, gain.level AS level, size.pupils AS pupils, gain.skills AS skills,
       (gain.latest_e9 - gain.first_e9) / 1e9 / gain.skills AS mean_gain,
       gain.latest_e9 / 1e9 / gain.skills AS mean_p,
       gain.last_update AS last_update
FROM
(
    SELECT academy, level, sum(skills) AS skills, sum(first_sum_e9) AS first_e9, sum(latest_sum_e9) AS latest_e9,
           max(last_update) AS last_update
    FROM ${database}.agg_level_mastery_gain
    GROUP BY academy, level
    HAVING skills > 0
) AS gain
INNER JOIN
(
    SELECT academy, level, max(skill_pupils) AS pupils
    FROM
    (
        SELECT academy, level, sum(pupils) AS skill_pupils
        FROM ${database}.agg_mastery_school_skill
        GROUP BY academy, level, subject, skill_code
    )
    GROUP BY academy, level
) AS size ON gain.academy = size.academy AND gain.level = size.level
WHERE size.pupils >= ${min_group_size};
