-- "At risk" now means the calibrated dropout risk (vigie.stream.signals, signal_type 'dropout_risk') of
-- severity medium or high: the rule signals (inactivity, falling success, rapid guessing, abandoned
-- sessions) stay in the signals table as readable indicators, but a teacher's and a school's count of
-- pupils at risk follows the one calibrated alert (docs/signals.md). Same views as 0012, one condition changed.

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
           uniqExactIf(student_id, status != 'cleared' AND severity IN ('medium', 'high')
                       AND signal_type = 'dropout_risk') AS at_risk,
           uniqExactIf(student_id, status != 'cleared' AND severity = 'high'
                       AND signal_type = 'dropout_risk') AS at_risk_high
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
           uniqExactIf(student_id, status != 'cleared' AND severity IN ('medium', 'high')
                       AND signal_type = 'dropout_risk') AS at_risk,
           uniqExactIf(student_id, status != 'cleared' AND severity = 'high'
                       AND signal_type = 'dropout_risk') AS at_risk_high
    FROM ${database}.signals_current FINAL
    GROUP BY academy, level
) AS risk ON population.academy = risk.academy AND population.level = risk.level
WHERE population.pupils >= ${min_group_size};

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
    SELECT academy, school_uai, class_id, uniqExactIf(student_id, status != 'cleared' AND severity IN ('medium', 'high')
                       AND signal_type = 'dropout_risk') AS at_risk
    FROM ${database}.signals_current FINAL
    GROUP BY academy, school_uai, class_id
) AS risk ON population.academy = risk.academy AND population.school_uai = risk.school_uai
          AND population.class_id = risk.class_id
WHERE population.pupils >= ${min_group_size};
