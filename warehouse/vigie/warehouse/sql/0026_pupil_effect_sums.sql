-- One row of plain numbers per pupil behind v_academy_platform_effect (national panels: 0.6–2 s at 50M answers
-- with 0021's state: a map of every skill's first and latest estimate per pupil, and one bitmap row per pupil
-- and platform, merged per pupil at each read).
--
-- 1. agg_pupil_mastery_sums: per pupil, the number of skills with an estimate, the sum of their first
--    estimates (p_before of the first update) and of their latest ones, in 1e-9 units: the latest sum is kept
--    as + p_after − previous_p_after (0023, as 0024 per group), so the mean gain is (latest − first) / skills
--    without any map. Latest = the chain's last update (arrival order, attempts: as mastery_current since
--    0017; 0021 took the newest event time). Only chained rows (previous_known) feed the view; the last
--    statement adds, per pupil, the reference computed from the history minus what the view wrote (all of
--    it for a history stored before 0023). The row has student_id: `vigie erase` deletes it; it expires
--    with the pupil's latest update, as agg_pupil_progress.
-- 2. agg_pupil_usage: per pupil (not per platform), answers per platform as a map and active days as an array
--    of distinct day numbers (UInt16 days since 1970), so a FINAL read gives the main platform and the active
--    days (length) without a GROUP BY. Not a groupBitmap: finalizing ~100k bitmaps took ~0.55 s at 50M
--    answers, the arrays ~35 ms (a pupil has at most the retention's days).

CREATE TABLE IF NOT EXISTS ${database}.agg_pupil_mastery_sums
(
    academy        LowCardinality(String),
    student_id     String,
    skills         SimpleAggregateFunction(sum, Int64),
    first_sum_e9   SimpleAggregateFunction(sum, Int64),
    latest_sum_e9  SimpleAggregateFunction(sum, Int64),
    last_update    SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
)
ENGINE = AggregatingMergeTree
ORDER BY (academy, student_id)
TTL toDateTime(last_update) + INTERVAL ${retention_days} DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.mv_agg_pupil_mastery_sums TO ${database}.agg_pupil_mastery_sums AS
SELECT academy, student_id,
       sum(toInt64(attempts <= 1 AND previous_p_after IS NULL)) AS skills,
       sum(if(attempts <= 1 AND previous_p_after IS NULL, toInt64(round(toFloat64(p_before) * 1e9)), 0)) AS first_sum_e9,
       sum(toInt64(round(toFloat64(p_after) * 1e9)) - toInt64(round(toFloat64(coalesce(previous_p_after, 0)) * 1e9))) AS latest_sum_e9,
       max(occurred_at) AS last_update
FROM ${database}.mastery_updates
WHERE previous_known
GROUP BY academy, student_id;

INSERT INTO ${database}.agg_pupil_mastery_sums (academy, student_id, skills, first_sum_e9, latest_sum_e9, last_update)
SELECT academy, student_id, t.skills - s.skills AS skills, t.first_sum_e9 - s.first_sum_e9 AS first_sum_e9,
       t.latest_sum_e9 - s.latest_sum_e9 AS latest_sum_e9, greatest(t.last_update, s.last_update) AS last_update
FROM
(
    SELECT academy, student_id, toInt64(count()) AS skills, sum(toInt64(round(toFloat64(p_first) * 1e9))) AS first_sum_e9,
           sum(toInt64(round(toFloat64(p_last) * 1e9))) AS latest_sum_e9, max(at) AS last_update
    FROM
    (
        SELECT academy, student_id, skill_code, argMin(p_before, (attempts, occurred_at)) AS p_first,
               argMax(p_after, (attempts, occurred_at)) AS p_last, max(occurred_at) AS at
        FROM ${database}.mastery_updates
        GROUP BY academy, student_id, skill_code
    )
    GROUP BY academy, student_id
) AS t
FULL OUTER JOIN
(
    SELECT academy, student_id, sum(skills) AS skills, sum(first_sum_e9) AS first_sum_e9,
           sum(latest_sum_e9) AS latest_sum_e9, max(last_update) AS last_update
    FROM ${database}.agg_pupil_mastery_sums
    GROUP BY academy, student_id
) AS s USING (academy, student_id)
WHERE skills != 0 OR first_sum_e9 != 0 OR latest_sum_e9 != 0;

CREATE TABLE IF NOT EXISTS ${database}.agg_pupil_usage
(
    academy              LowCardinality(String),
    student_id           String,
    level                SimpleAggregateFunction(anyLast, LowCardinality(String)),
    answers_by_platform  SimpleAggregateFunction(sumMap, Tuple(Array(String), Array(UInt64))),
    days                 SimpleAggregateFunction(groupUniqArrayArray, Array(UInt16)),
    last_answer          SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
)
ENGINE = AggregatingMergeTree
ORDER BY (academy, student_id)
TTL toDateTime(last_answer) + INTERVAL ${retention_days} DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.mv_agg_pupil_usage TO ${database}.agg_pupil_usage AS
SELECT academy, student_id, anyLast(level) AS level,
       sumMap(([toString(platform)], [toUInt64(1)])) AS answers_by_platform,
       groupUniqArray(toUInt16(toDate(occurred_at, 'Europe/Paris'))) AS days, max(occurred_at) AS last_answer
FROM ${database}.answers
GROUP BY academy, student_id;
