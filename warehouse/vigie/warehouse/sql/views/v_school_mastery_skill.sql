-- Mastery per school and skill: each pupil's latest estimate (mastery_skill_current FINAL; the pupil's school
-- is that of their latest estimate), then grouped. Groups under k pupils are removed.
CREATE OR REPLACE VIEW ${database}.v_school_mastery_skill AS
SELECT academy, school_uai, level, subject, skill_code,
       count() AS pupils,
       avg(p) AS mean_p,
       countIf(is_mastered) AS mastered,
       mastered / pupils AS mastered_share,
       max(at) AS last_update
FROM
(
    SELECT academy, school_uai, level, subject, skill_code, p, mastered AS is_mastered, occurred_at AS at
    FROM ${database}.mastery_skill_current FINAL
)
GROUP BY academy, school_uai, level, subject, skill_code
HAVING pupils >= ${min_group_size};
