-- Population: active pupils per academy, day and level from agg_pupils_daily_academy (migration 0025), merged
-- over platforms (distinct-pupil states merge exactly); signals per day from agg_signals_daily.
CREATE OR REPLACE VIEW ${database}.v_academy_signals_daily AS
SELECT population.day AS day, population.academy AS academy, population.level AS level,
       population.pupils AS pupils,
       signals.n_raised AS signals_raised, signals.n_cleared AS signals_cleared,
       least(signals.pupils_signalled, population.pupils) AS pupils_signalled
FROM
(
    SELECT day, academy, level, uniqExactMerge(pupils_state) AS pupils
    FROM ${database}.agg_pupils_daily_academy
    GROUP BY day, academy, level
) AS population
LEFT JOIN
(
    SELECT day, academy, level, sum(raised) AS n_raised, sum(cleared) AS n_cleared,
           uniqExactMergeIf(pupils_state, raised > 0) AS pupils_signalled
    FROM ${database}.agg_signals_daily
    GROUP BY day, academy, level
) AS signals ON population.day = signals.day AND population.academy = signals.academy
            AND population.level = signals.level
WHERE population.pupils >= ${min_group_size};
