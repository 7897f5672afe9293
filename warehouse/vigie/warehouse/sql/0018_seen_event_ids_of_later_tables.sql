-- The tables added beside the duplicate index (raw xAPI statements, the learner model's parameters) feed
-- it too, so the sink recognises their redelivered events by id like every other table's (see 0016).
-- migrate backfills each new view from the rows its table already holds.

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.mv_seen_raw_statements TO ${database}.seen_event_ids AS
SELECT concat('raw_statements/', toString(event_id)) AS key FROM ${database}.raw_statements;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.mv_seen_skill_parameters_learner TO ${database}.seen_event_ids AS
SELECT concat('skill_parameters_learner/', toString(event_id)) AS key FROM ${database}.skill_parameters_learner;
