-- k-anonymous views the dashboards need beyond 0010: platforms, at-risk trend, classes of a school,
-- and the effect of platforms and uses on mastery progress. Same rule as 0010: every row describes a
-- group of at least ${min_group_size} pupils (`pupils`); smaller groups are removed, not nulled.
-- Written with the dashboards (issue 7).

CREATE OR REPLACE VIEW ${database}.v_school_platform_daily AS
SELECT day, academy, school_uai, level, platform,
       uniqExactMerge(pupils_state) AS pupils,
       sum(answers) AS answers_count,
       sum(sessions_started) AS sessions_started,
       sum(sessions_abandoned) AS sessions_abandoned
FROM ${database}.agg_pupils_daily
GROUP BY day, academy, school_uai, level, platform
HAVING pupils >= ${min_group_size};
