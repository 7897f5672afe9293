-- Views for school and academy levels. Every row describes a group of at least ${min_group_size}
-- pupils (settings.warehouse.min_group_size, k): smaller groups are REMOVED (HAVING pupils >= k), not
-- nulled, so neither their figures nor the fact that such a small group was active leak. `pupils` is
-- the group size the rule was applied to. These views read only the aggregate tables; on a server the
-- academy roles may read these views and nothing else (see `vigie warehouse access-sql`).
-- They are re-created from the current settings at every `migrate`, so a new k applies at once.

CREATE OR REPLACE VIEW ${database}.v_school_activity_daily AS
SELECT day, academy, school_uai, level, subject,
       uniqExactMerge(pupils_state) AS pupils,
       sum(answers) AS answers_count,
       sum(correct_answers) AS correct_count,
       correct_count / answers_count AS success_rate,
       sum(response_time_ms_sum) / answers_count AS mean_response_time_ms
FROM ${database}.agg_activity_daily
GROUP BY day, academy, school_uai, level, subject
HAVING pupils >= ${min_group_size};

CREATE OR REPLACE VIEW ${database}.v_academy_activity_daily AS
SELECT day, academy, level, subject,
       uniqExactMerge(pupils_state) AS pupils,
       sum(answers) AS answers_count,
       sum(correct_answers) AS correct_count,
       correct_count / answers_count AS success_rate,
       sum(response_time_ms_sum) / answers_count AS mean_response_time_ms
FROM ${database}.agg_activity_daily
GROUP BY day, academy, level, subject
HAVING pupils >= ${min_group_size};

CREATE OR REPLACE VIEW ${database}.v_school_mastery_skill AS
SELECT academy, school_uai, level, subject, skill_code,
       count() AS pupils,
       avg(p) AS mean_p,
       countIf(is_mastered) AS mastered,
       mastered / pupils AS mastered_share,
       max(last_seen) AS last_update
FROM
(
    SELECT academy, school_uai, level, subject, skill_code, student_id,
           argMaxMerge(p_state) AS p, argMaxMerge(mastered_state) AS is_mastered, max(last_update) AS last_seen
    FROM ${database}.agg_mastery_class_skill
    GROUP BY academy, school_uai, level, subject, skill_code, student_id
)
GROUP BY academy, school_uai, level, subject, skill_code
HAVING pupils >= ${min_group_size};

CREATE OR REPLACE VIEW ${database}.v_academy_mastery_skill AS
SELECT academy, level, subject, skill_code,
       count() AS pupils,
       avg(p) AS mean_p,
       countIf(is_mastered) AS mastered,
       mastered / pupils AS mastered_share,
       max(last_seen) AS last_update
FROM
(
    SELECT academy, level, subject, skill_code, student_id,
           argMaxMerge(p_state) AS p, argMaxMerge(mastered_state) AS is_mastered, max(last_update) AS last_seen
    FROM ${database}.agg_mastery_class_skill
    GROUP BY academy, level, subject, skill_code, student_id
)
GROUP BY academy, level, subject, skill_code
HAVING pupils >= ${min_group_size};

CREATE OR REPLACE VIEW ${database}.v_school_at_risk AS
SELECT population.academy AS academy, population.school_uai AS school_uai, population.level AS level,
       population.pupils AS pupils,
       least(risk.at_risk, population.pupils) AS pupils_at_risk,
       least(risk.at_risk_high, population.pupils) AS pupils_at_risk_high,
       pupils_at_risk / pupils AS at_risk_share
FROM
(
    SELECT academy, school_uai, level, uniqExactMerge(pupils_state) AS pupils
    FROM ${database}.agg_pupils_daily
    GROUP BY academy, school_uai, level
) AS population
LEFT JOIN
(
    SELECT academy, school_uai, level,
           uniqExactIf(student_id, status != 'cleared') AS at_risk,
           uniqExactIf(student_id, status != 'cleared' AND severity = 'high') AS at_risk_high
    FROM ${database}.signals_current FINAL
    GROUP BY academy, school_uai, level
) AS risk ON population.academy = risk.academy AND population.school_uai = risk.school_uai
          AND population.level = risk.level
WHERE population.pupils >= ${min_group_size};

CREATE OR REPLACE VIEW ${database}.v_academy_at_risk AS
SELECT population.academy AS academy, population.level AS level,
       population.pupils AS pupils,
       least(risk.at_risk, population.pupils) AS pupils_at_risk,
       least(risk.at_risk_high, population.pupils) AS pupils_at_risk_high,
       pupils_at_risk / pupils AS at_risk_share
FROM
(
    SELECT academy, level, uniqExactMerge(pupils_state) AS pupils
    FROM ${database}.agg_pupils_daily
    GROUP BY academy, level
) AS population
LEFT JOIN
(
    SELECT academy, level,
           uniqExactIf(student_id, status != 'cleared') AS at_risk,
           uniqExactIf(student_id, status != 'cleared' AND severity = 'high') AS at_risk_high
    FROM ${database}.signals_current FINAL
    GROUP BY academy, level
) AS risk ON population.academy = risk.academy AND population.level = risk.level
WHERE population.pupils >= ${min_group_size};
