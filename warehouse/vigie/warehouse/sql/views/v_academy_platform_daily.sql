-- Active pupils, answers and sessions per day, academy, level and platform: agg_pupils_daily_academy (one
-- distinct-pupil state per row once merged, migration 0025). Groups under k pupils are removed.
CREATE OR REPLACE VIEW ${database}.v_academy_platform_daily AS
SELECT day, academy, level, platform,
       uniqExactMerge(pupils_state) AS pupils,
       sum(answers) AS answers_count,
       sum(sessions_started) AS sessions_started,
       sum(sessions_abandoned) AS sessions_abandoned
FROM ${database}.agg_pupils_daily_academy
GROUP BY day, academy, level, platform
HAVING pupils >= ${min_group_size};
