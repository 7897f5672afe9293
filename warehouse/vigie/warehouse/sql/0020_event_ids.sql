-- The sink's duplicate index moves from EmbeddedRocksDB (seen_event_ids, 0016/0018) to a MergeTree sorted
-- by id. Why: at 50M ids a 10k-id check took ~25 s in the key-value table, and such a table is local to one
-- process: its TTL is fixed at creation (retention changes never reached it), ALTER/DELETE and
-- `vigie warehouse retention` do not apply, and on a cluster it is neither replicated nor shardable
-- (a materialized view fires only on the replica that took the insert).
-- Here the id is the sort key, with small granules (128 rows) and small compressed blocks, so one id costs one
-- granule: a check reads about (ids × 128) rows whatever the history (bench.dedup), and the table is an
-- ordinary MergeTree: `vigie warehouse retention` changes its TTL (stored_at: never earlier than the row's
-- own expiry), and on a cluster it is a ReplicatedMergeTree next to each shard's history, read through a
-- Distributed table. It holds ids only (no pupil data). ReplacingMergeTree: a re-fed id is stored once.
-- Each history table feeds it through a materialized view (migrate backfills each from its table).

CREATE TABLE IF NOT EXISTS ${database}.event_ids
(
    table_name LowCardinality(String),
    event_id   UUID CODEC(NONE),
    stored_at  DateTime DEFAULT now()
)
ENGINE = ReplacingMergeTree
ORDER BY (table_name, event_id)
TTL stored_at + INTERVAL ${retention_days} DAY
SETTINGS index_granularity = 128, min_compress_block_size = 4096, max_compress_block_size = 4096;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.mv_event_ids_answers TO ${database}.event_ids AS
SELECT 'answers' AS table_name, event_id FROM ${database}.answers;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.mv_event_ids_session_events TO ${database}.event_ids AS
SELECT 'session_events' AS table_name, event_id FROM ${database}.session_events;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.mv_event_ids_mastery_updates TO ${database}.event_ids AS
SELECT 'mastery_updates' AS table_name, event_id FROM ${database}.mastery_updates;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.mv_event_ids_signals TO ${database}.event_ids AS
SELECT 'signals' AS table_name, event_id FROM ${database}.signals;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.mv_event_ids_skill_parameters TO ${database}.event_ids AS
SELECT 'skill_parameters' AS table_name, event_id FROM ${database}.skill_parameters;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.mv_event_ids_skill_parameters_learner TO ${database}.event_ids AS
SELECT 'skill_parameters_learner' AS table_name, event_id FROM ${database}.skill_parameters_learner;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.mv_event_ids_dead_letters TO ${database}.event_ids AS
SELECT 'dead_letters' AS table_name, event_id FROM ${database}.dead_letters;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.mv_event_ids_raw_statements TO ${database}.event_ids AS
SELECT 'raw_statements' AS table_name, event_id FROM ${database}.raw_statements;

DROP VIEW IF EXISTS ${database}.mv_seen_answers;

DROP VIEW IF EXISTS ${database}.mv_seen_session_events;

DROP VIEW IF EXISTS ${database}.mv_seen_mastery_updates;

DROP VIEW IF EXISTS ${database}.mv_seen_signals;

DROP VIEW IF EXISTS ${database}.mv_seen_skill_parameters;

DROP VIEW IF EXISTS ${database}.mv_seen_dead_letters;

DROP VIEW IF EXISTS ${database}.mv_seen_raw_statements;

DROP VIEW IF EXISTS ${database}.mv_seen_skill_parameters_learner;

DROP TABLE IF EXISTS ${database}.seen_event_ids;
