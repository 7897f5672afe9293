-- The platform effect (as v_academy_platform_effect: mastery progress by main platform and usage band, per
-- academy and level) read from its reconciled cells (agg_platform_effect, migration 0029): a few rows per
-- academy, no row per pupil. The figures are those of the LAST RECONCILE (`vigie warehouse mastery-sums
-- --reconcile`, daily; `vigie erase` reconciles the pupil's academies at once), not of the latest answers:
-- v_academy_platform_effect is the live per-pupil computation. Groups under k pupils are removed.
CREATE OR REPLACE VIEW ${database}.v_academy_platform_effect_cells AS
SELECT academy, platform, usage_band, level,
       sum(pupils) AS pupils,
       sum(gain_sum_e9) / 1e9 / pupils AS mean_gain,
       sum(p_sum_e9) / 1e9 / pupils AS mean_p,
       sum(days_sum) / pupils AS mean_active_days,
       max(last_update) AS last_update
FROM ${database}.agg_platform_effect
GROUP BY academy, platform, usage_band, level
HAVING pupils >= ${min_group_size};
