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
