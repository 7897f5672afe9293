CREATE OR REPLACE VIEW ${database}.v_academy_at_risk AS
SELECT population.academy AS academy, population.level AS level,
       population.pupils AS pupils,
       least(risk.at_risk, population.pupils) AS pupils_at_risk,
       least(risk.at_risk_high, population.pupils) AS pupils_at_risk_high,
       pupils_at_risk / pupils AS at_risk_share
FROM
(
    SELECT academy, level, uniqExact(student_id) AS pupils
    FROM ${database}.pupils_active
    GROUP BY academy, level
) AS population
LEFT JOIN
(
    SELECT academy, level, uniqExact(student_id) AS at_risk, uniqExactIf(student_id, high) AS at_risk_high
    FROM ${database}.pupils_at_risk
    GROUP BY academy, level
) AS risk ON population.academy = risk.academy AND population.level = risk.level
WHERE population.pupils >= ${min_group_size};
