-- "At risk", defined once for every view that counts it: a pupil with an open calibrated dropout risk
-- (signal_type 'dropout_risk') of severity medium or high (as the signals engine says:
-- vigie.stream.signals.rules.counts_as_at_risk). Low severities are early hints, the rule signals
-- (inactivity, falling success, ...) are readable indicators, and wheel-spinning is a learning difficulty.
-- Pupil-level (like signals_current): aggregate views read it and hide groups smaller than k.
CREATE OR REPLACE VIEW ${database}.pupils_at_risk AS
SELECT academy, school_uai, class_id, level, student_id,
       max(severity = 'high') AS high
FROM ${database}.signals_current FINAL
WHERE status != 'cleared' AND severity IN ('medium', 'high') AND signal_type = 'dropout_risk'
GROUP BY academy, school_uai, class_id, level, student_id;
