-- "Élèves à suivre": per class, the pupils whose calibrated dropout risk (signal_type 'dropout_risk',
-- vigie.stream.signals) is open, ranked by risk, with its reasons and since when it is open.
-- k-safe: only classes with at least ${min_group_size} pupils seen are listed (a smaller class would make
-- a pupil recognisable to anyone reading the view), and pupils appear as a short pseudonym prefix.
-- The risk is the first reason's value (code 'dropout_risk'); the other reasons are its top contributions.

CREATE OR REPLACE VIEW ${database}.v_class_pupils_to_follow AS
SELECT risk.academy AS academy, risk.school_uai AS school_uai, risk.class_id AS class_id, risk.level AS level,
       substring(risk.student_id, 1, 8) AS pupil, risk.severity AS severity, risk.risk AS risk,
       risk.reasons AS reasons, risk.since AS since, risk.updated_at AS updated_at,
       row_number() OVER (PARTITION BY risk.academy, risk.school_uai, risk.class_id
                          ORDER BY risk.risk DESC, risk.since, risk.student_id) AS rank,
       population.pupils AS class_pupils
FROM
(
    SELECT academy, school_uai, class_id, student_id,
           argMax(level, occurred_at) AS level,
           argMax(status, occurred_at) AS status,
           argMax(severity, occurred_at) AS severity,
           argMax(if(length(reasons.value) > 0, reasons.value[1], 0.0), occurred_at) AS risk,
           argMax(arrayStringConcat(arraySlice(reasons.text, 2), ' ; '), occurred_at) AS reasons,
           argMax(first_seen_at, occurred_at) AS since,
           max(occurred_at) AS updated_at
    FROM ${database}.signals
    WHERE signal_type = 'dropout_risk'
    GROUP BY academy, school_uai, class_id, student_id
) AS risk
INNER JOIN
(
    SELECT academy, school_uai, class_id, uniqExactMerge(pupils_state) AS pupils
    FROM ${database}.agg_pupils_daily
    GROUP BY academy, school_uai, class_id
) AS population ON population.academy = risk.academy AND population.school_uai = risk.school_uai
               AND population.class_id = risk.class_id
WHERE risk.status != 'cleared' AND population.pupils >= ${min_group_size};
