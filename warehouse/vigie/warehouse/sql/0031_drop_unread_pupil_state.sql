-- agg_pupil_platform and agg_pupil_progress (0021) were the per-pupil state behind the platform effect;
-- since 0026 and 0029 the effect is read from running sums (agg_pupil_effect, agg_platform_effect_cells), and
-- nothing reads these two tables: no view, no dashboard, no report. Their materialized views still ran on
-- every insert into answers and mastery_updates (a per-pupil bitmap and two maps per row), the sink's
-- hottest path. Dropped, views first so no insert feeds a table that is going away.

DROP VIEW IF EXISTS ${database}.mv_agg_pupil_platform;

DROP VIEW IF EXISTS ${database}.mv_agg_pupil_progress;

DROP TABLE IF EXISTS ${database}.agg_pupil_platform;

DROP TABLE IF EXISTS ${database}.agg_pupil_progress;
