-- Answers per (day, academy, level, subject) with a capped distinct-pupil state, for the national panel
-- "Activité et maîtrise par académie": it shows answers and success rates, and needs the pupil count only for
-- the k rule (a day-group of fewer than k pupils is hidden). Through v_academy_activity_daily it merged one
-- exact distinct-pupil state (uniqExact: a hash set of every pupil) per day-group: ~140 ms CPU at 50M answers,
-- against 6 ms for the same sums without the pupils.
--
-- uniqUpTo(100) counts distinct pupils exactly up to 100 and says 101 above: a state holds at most 101 hashes,
-- cheap to merge whatever the group's size, and exact wherever the k rule decides (k <= 100; a larger
-- min_group_size hides every row of v_academy_answers_daily rather than show a small group).
-- Fed by answers as agg_activity_daily_academy (0027), backfilled from the history by migrate; same retention
-- (TTL on day); `vigie erase` rebuilds the pupil's (academy, day) rows as for every daily aggregate kept per
-- academy (vigie.warehouse.erase._recompute_academy_days).

CREATE TABLE IF NOT EXISTS ${database}.agg_answers_daily_academy
(
    day                   Date,
    academy               LowCardinality(String),
    level                 LowCardinality(String),
    subject               LowCardinality(String),
    answers               SimpleAggregateFunction(sum, UInt64),
    correct_answers       SimpleAggregateFunction(sum, UInt64),
    response_time_ms_sum  SimpleAggregateFunction(sum, UInt64),
    pupils_upto_state     AggregateFunction(uniqUpTo(100), String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (academy, day, level, subject)
TTL day + INTERVAL ${retention_days} DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.mv_agg_answers_daily_academy TO ${database}.agg_answers_daily_academy AS
SELECT toDate(occurred_at, 'Europe/Paris') AS day, academy, level, subject,
       count() AS answers, countIf(correct) AS correct_answers, sum(toUInt64(response_time_ms)) AS response_time_ms_sum,
       uniqUpToState(100)(student_id) AS pupils_upto_state
FROM ${database}.answers
GROUP BY day, academy, level, subject;
