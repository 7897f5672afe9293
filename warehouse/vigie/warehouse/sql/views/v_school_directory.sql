-- Each school's latest directory row (vigie.warehouse.schools): what the report and the dashboards show
-- beside a UAI. No pupil data, so no k applies; on a server the academy roles read it with the other v_*
-- views, through the row policy on `academy` ('' when the directory's academy label was not recognised).
CREATE OR REPLACE VIEW ${database}.v_school_directory AS
SELECT school_uai,
       argMax(academy, loaded_at) AS academy,
       argMax(name, loaded_at) AS name,
       argMax(commune, loaded_at) AS commune,
       argMax(kind, loaded_at) AS kind,
       max(loaded_at) AS last_loaded_at
FROM ${database}.school_directory
GROUP BY school_uai;
