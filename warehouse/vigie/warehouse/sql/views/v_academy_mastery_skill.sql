-- Mastery per academy and skill: the running sums of agg_mastery_school_skill (each pupil's latest estimate,
-- kept by the materialized view as +new − previous), summed over the academy's schools: no per-pupil row
-- is read. Groups under k pupils are removed.
CREATE OR REPLACE VIEW ${database}.v_academy_mastery_skill AS
SELECT academy, level, subject, skill_code,
       sum(s.pupils) AS pupils,
       sum(s.p_sum_e9) / 1e9 / pupils AS mean_p,
       sum(s.mastered) AS mastered,
       mastered / pupils AS mastered_share,
       max(s.last_update) AS last_update
FROM ${database}.agg_mastery_school_skill AS s
GROUP BY academy, level, subject, skill_code
HAVING pupils >= ${min_group_size};
