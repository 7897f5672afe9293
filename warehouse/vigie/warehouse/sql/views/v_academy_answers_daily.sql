CREATE OR REPLACE VIEW ${database}.v_academy_answers_daily AS
SELECT day, academy, level, subject,
       sum(answers) AS answers_count,
       sum(correct_answers) AS correct_count,
       correct_count / answers_count AS success_rate,
       sum(response_time_ms_sum) / answers_count AS mean_response_time_ms
FROM ${database}.agg_answers_daily_academy
GROUP BY day, academy, level, subject
HAVING uniqUpToMerge(100)(pupils_upto_state) >= ${min_group_size};
