-- Signal changes per day against the day's active population (the group whose size k applies to).
CREATE OR REPLACE VIEW ${database}.v_school_signals_daily AS
SELECT population.day AS day, population.academy AS academy, population.school_uai AS school_uai,
       population.level AS level, population.pupils AS pupils,
       signals.n_raised AS signals_raised, signals.n_cleared AS signals_cleared,
       least(signals.pupils_signalled, population.pupils) AS pupils_signalled
FROM
(
    SELECT day, academy, school_uai, level, uniqExactMerge(pupils_state) AS pupils
    FROM ${database}.agg_pupils_daily
    GROUP BY day, academy, school_uai, level
) AS population
LEFT JOIN
(
    SELECT day, academy, school_uai, level, sum(raised) AS n_raised, sum(cleared) AS n_cleared,
           uniqExactMergeIf(pupils_state, raised > 0) AS pupils_signalled
    FROM ${database}.agg_signals_daily
    GROUP BY day, academy, school_uai, level
) AS signals ON population.day = signals.day AND population.academy = signals.academy
            AND population.school_uai = signals.school_uai AND population.level = signals.level
WHERE population.pupils >= ${min_group_size};
