-- Share of a school's pupils at risk (pupils_at_risk), per level; schools with fewer than k pupils hidden.
CREATE OR REPLACE VIEW ${database}.v_school_at_risk AS
SELECT population.academy AS academy, population.school_uai AS school_uai, population.level AS level,
       population.pupils AS pupils,
       least(risk.at_risk, population.pupils) AS pupils_at_risk,
       least(risk.at_risk_high, population.pupils) AS pupils_at_risk_high,
       pupils_at_risk / pupils AS at_risk_share
FROM
(
    SELECT academy, school_uai, level, uniqExact(student_id) AS pupils
    FROM ${database}.pupils_active
    GROUP BY academy, school_uai, level
) AS population
LEFT JOIN
(
    SELECT academy, school_uai, level, uniqExact(student_id) AS at_risk, uniqExactIf(student_id, high) AS at_risk_high
    FROM ${database}.pupils_at_risk
    GROUP BY academy, school_uai, level
) AS risk ON population.academy = risk.academy AND population.school_uai = risk.school_uai
          AND population.level = risk.level
WHERE population.pupils >= ${min_group_size};
