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
    SELECT academy, school_uai, class_id, uniqExact(student_id) AS at_risk
    FROM ${database}.pupils_at_risk
    GROUP BY academy, school_uai, class_id
) AS risk ON population.academy = risk.academy AND population.school_uai = risk.school_uai
          AND population.class_id = risk.class_id
WHERE population.pupils >= ${min_group_size};
