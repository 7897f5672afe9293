-- Mastery per academy and skill: each pupil's latest estimate (mastery_skill_current, one row per pupil ×
-- skill once merged, read with FINAL), then grouped. Groups under k pupils are removed.
CREATE OR REPLACE VIEW ${database}.v_academy_mastery_skill AS
SELECT academy, level, subject, skill_code,
       count() AS pupils,
       avg(p) AS mean_p,
       countIf(is_mastered) AS mastered,
       mastered / pupils AS mastered_share,
       max(at) AS last_update
FROM
(
    SELECT academy, level, subject, skill_code, p, mastered AS is_mastered, occurred_at AS at
    FROM ${database}.mastery_skill_current FINAL
)
GROUP BY academy, level, subject, skill_code
HAVING pupils >= ${min_group_size};
