-- The event ids every table holds, for the sink's duplicate check. Before, the sink looked an id up only
-- within the batch's event-time range: a retry rebuilt with a later occurred_at (same event_id) was
-- stored twice and counted twice by the materialized views. Looking ids up in the history tables
-- themselves does not scale (a 10k-id IN list over a 5M-row table took ~1 s, through its sort key or
-- its bloom filter alike, and grows with the table). Here a key-value table (EmbeddedRocksDB) answers
-- by key: the cost of a check is that of its ids, not of the history (bench.dedup measures it).
-- The key is '<table>/<event_id>'; materialized views fill it as rows are inserted, so an id is
-- "seen" exactly when its row is stored. The TTL (seconds) is the retention of the history.

CREATE TABLE IF NOT EXISTS ${database}.seen_event_ids
(
    key       String,
    stored_at DateTime DEFAULT now()
)
ENGINE = EmbeddedRocksDB(${retention_seconds})
PRIMARY KEY key;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.mv_seen_answers TO ${database}.seen_event_ids AS
SELECT concat('answers/', toString(event_id)) AS key FROM ${database}.answers;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.mv_seen_session_events TO ${database}.seen_event_ids AS
SELECT concat('session_events/', toString(event_id)) AS key FROM ${database}.session_events;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.mv_seen_mastery_updates TO ${database}.seen_event_ids AS
SELECT concat('mastery_updates/', toString(event_id)) AS key FROM ${database}.mastery_updates;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.mv_seen_signals TO ${database}.seen_event_ids AS
SELECT concat('signals/', toString(event_id)) AS key FROM ${database}.signals;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.mv_seen_skill_parameters TO ${database}.seen_event_ids AS
SELECT concat('skill_parameters/', toString(event_id)) AS key FROM ${database}.skill_parameters;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.mv_seen_dead_letters TO ${database}.seen_event_ids AS
SELECT concat('dead_letters/', toString(event_id)) AS key FROM ${database}.dead_letters;
