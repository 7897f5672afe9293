-- The school directory (UAI -> name, commune, kind, academy), loaded by the operator with
-- `vigie warehouse schools FILE.csv` from the national school directory's open-data export
-- (vigie.warehouse.schools). Reference data: no pupil in it. A reload replaces a school's row (by UAI,
-- newest loaded_at wins in v_school_directory). Like every table it expires after the retention: reload
-- the directory at least once per retention period (a reload refreshes loaded_at); a school the directory
-- no longer knows is shown by its UAI.

CREATE TABLE IF NOT EXISTS ${database}.school_directory
(
    academy     LowCardinality(String),
    school_uai  String,
    name        String,
    commune     String,
    kind        LowCardinality(String),
    loaded_at   DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(loaded_at)
ORDER BY (academy, school_uai)
TTL toDateTime(loaded_at) + INTERVAL ${retention_days} DAY;
