-- Mastery per school and skill: the running sums of agg_mastery_school_skill (each pupil's latest estimate,
-- counted in the school of the update, kept by the materialized view as +new − previous): no per-pupil row
-- is read. Groups under k pupils are removed.
CREATE OR REPLACE VIEW ${database}.v_school_mastery_skill AS
SELECT academy, school_uai, level, subject, skill_code,
       sum(s.pupils) AS pupils,
       sum(s.p_sum_e9) / 1e9 / pupils AS mean_p,
       sum(s.mastered) AS mastered,
       mastered / pupils AS mastered_share,
       max(s.last_update) AS last_update
FROM ${database}.agg_mastery_school_skill AS s
GROUP BY academy, school_uai, level, subject, skill_code
HAVING pupils >= ${min_group_size};
