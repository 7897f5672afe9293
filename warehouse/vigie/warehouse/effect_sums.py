"""The platform effect's cells (``agg_platform_effect``, migration 0029) reconciled with the per-pupil figures.

A pupil's cell (academy, level, main platform, usage band) moves as they answer: no materialized view can
move them, so the cells are not fed but reconciled. ``reconcile`` adds, per cell, the per-pupil figures (the
computation of ``v_academy_platform_effect`` over the pupils retained) minus what the cells hold; the sums are
additive, so the difference is inserted as a row. It runs with the other sums' reconcile (``vigie warehouse
mastery-sums --reconcile``, daily), at migration (backfill) and, restricted to the pupil's academies, after
``vigie erase`` deleted their rows: the cells then hold exactly the remaining pupils. Between two reconciles
the cells show the pupils as they were at the last one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from clickhouse_connect.driver.client import Client

from vigie.warehouse.running_sums import RunningSums, retained

log = logging.getLogger(__name__)

SUMS = "agg_platform_effect"
GROUP = ("academy", "level", "platform", "usage_band")
_TABLE = RunningSums(SUMS, GROUP, ("pupils", "gain_sum_e9", "p_sum_e9", "days_sum"))
_KEY = _TABLE.key
COLUMNS = _TABLE.columns
#: Active days -> usage band, as v_academy_platform_effect.
BAND = "multiIf(u.active_days >= 10, '10 jours ou plus', u.active_days >= 4, '4 à 9 jours', 'moins de 4 jours')"


@dataclass(frozen=True, slots=True)
class Drift:
    """One cell where the stored sums and the per-pupil figures differ: what the per-pupil figures have more."""

    group: tuple[str, ...]
    pupils: int
    gain_sum_e9: int
    p_sum_e9: int
    days_sum: int
    last_update: datetime

    def row(self) -> list[Any]:
        return [*self.group, self.pupils, self.gain_sum_e9, self.p_sum_e9, self.days_sum, self.last_update]


def _per_pupil(database: str, academies: str, retention_days: int | None) -> str:
    usage_kept, sums_kept = retained("last_answer", retention_days), retained("last_update", retention_days)
    return (
        f"SELECT {_KEY}, toInt64(count()) AS pupils, sum(gain_e9) AS gain_sum_e9, sum(p_e9) AS p_sum_e9,"
        f" toInt64(sum(active_days)) AS days_sum, max(at) AS last_update FROM ("
        f" SELECT u.academy AS academy, u.level AS level, u.platform AS platform, u.active_days AS active_days,"
        f" {BAND} AS usage_band, toInt64(round((m.latest_sum_e9 - m.first_sum_e9) / m.skills)) AS gain_e9,"
        f" toInt64(round(m.latest_sum_e9 / m.skills)) AS p_e9, greatest(u.last_answer, m.last_update) AS at"
        f" FROM (SELECT academy, student_id, level,"
        f" answers_by_platform.1[indexOf(answers_by_platform.2, arrayMax(answers_by_platform.2))] AS platform,"
        f" length(days) AS active_days, last_answer FROM {database}.agg_pupil_usage FINAL"
        f" WHERE ({academies}) AND ({usage_kept})) AS u"
        f" INNER JOIN (SELECT academy, student_id, skills, first_sum_e9, latest_sum_e9, last_update"
        f" FROM {database}.agg_pupil_mastery_sums FINAL WHERE skills > 0 AND ({academies}) AND ({sums_kept})) AS m"
        f" ON u.academy = m.academy AND u.student_id = m.student_id"
        f") GROUP BY {_KEY}"
    )


def drift(
    client: Client, database: str, retention_days: int | None = None, academies: list[str] | None = None
) -> list[Drift]:
    """Per cell (of ``academies``, or all), the per-pupil figures (pupils retained, with ``retention_days``)
    minus the stored sums, where nonzero; dated by the cell's latest update."""
    where, parameters = "1", None
    if academies is not None:
        where, parameters = "academy IN {academies:Array(String)}", {"academies": academies}
    sql = _TABLE.drift_sql(_per_pupil(database, where, retention_days), _TABLE.stored(database, where))
    return _TABLE.drifts(client, sql, Drift, parameters)


def reconcile(
    client: Client, database: str, retention_days: int | None = None, academies: list[str] | None = None
) -> int:
    """Make the cells (of ``academies``, or all) equal to the per-pupil figures by adding the drift; cells
    corrected. Run it when the sink is quiet: an answer landing while it reads is counted at the next run."""
    fixed = _TABLE.add(client, database, drift(client, database, retention_days, academies))
    log.info("platform effect cells of %s reconciled: %s cell(s) corrected", database, fixed)
    return fixed
