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
FROM ${database}.agg_activity_daily_school
GROUP BY day, academy, school_uai, level, subject
HAVING pupils >= ${min_group_size};
