-- Distinct pupils counted on a 64-bit hash of the pseudonym (uniqExact of a String hashes it to 128 bits, and
-- its hash set costs twice as much: ~70 ms of the national panels at 50M answers). Two pupils of a group
-- count once only if their hashes collide: for n pupils, about n^2 / 2^65 (12M pupils: 4e-6).
CREATE OR REPLACE VIEW ${database}.v_academy_at_risk AS
SELECT population.academy AS academy, population.level AS level,
       population.pupils AS pupils,
       least(risk.at_risk, population.pupils) AS pupils_at_risk,
       least(risk.at_risk_high, population.pupils) AS pupils_at_risk_high,
       pupils_at_risk / pupils AS at_risk_share
FROM
(
    SELECT academy, level, uniqExact(sipHash64(student_id)) AS pupils
    FROM ${database}.pupils_active
    GROUP BY academy, level
) AS population
LEFT JOIN
(
    SELECT academy, level, uniqExact(sipHash64(student_id)) AS at_risk,
           uniqExactIf(sipHash64(student_id), high) AS at_risk_high
    FROM ${database}.pupils_at_risk
    GROUP BY academy, level
) AS risk ON population.academy = risk.academy AND population.level = risk.level
WHERE population.pupils >= ${min_group_size};
