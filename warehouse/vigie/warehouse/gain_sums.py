"""The running sums of mastery progress per (academy, level) (``agg_level_mastery_gain``, migration 0028) kept
equal to the pupils' own sums (``agg_pupil_mastery_sums``, each pupil at the level of their estimates in
``mastery_current``).

The materialized view adds, per chained update, +1 skill and its ``p_before`` on a chain's first update, and
``+p_after − previous_p_after`` to the latest sum: each update is inserted once, so the sums telescope to the
pupils' figures. What changes the pupils' figures without an update is handled as in
``vigie.warehouse.mastery_sums``, by inserting the difference (the sums are additive):

- erasure: ``retract`` subtracts the pupil's figures before ``vigie erase`` deletes their rows;
- retention: a pupil whose latest update is older than the retention leaves ``agg_pupil_mastery_sums`` at its
  TTL merges; ``reconcile`` (``vigie warehouse mastery-sums --reconcile``, daily) adds ``per-pupil − sums`` per
  group with the retention cut applied to the per-pupil side;
- what the chain cannot see (a stream that lost a pupil's state, updates without ``previous_*``, a pupil whose
  level changed): the same ``reconcile``; ``drift`` shows them.

Every row inserted here carries the group's own latest update as ``last_update``, so it expires with its group.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from clickhouse_connect.driver.client import Client

from vigie.warehouse.running_sums import RunningSums, retained

log = logging.getLogger(__name__)

SUMS = "agg_level_mastery_gain"
PER_PUPIL = "agg_pupil_mastery_sums"
GROUP = ("academy", "level")
_TABLE = RunningSums(SUMS, GROUP, ("skills", "first_sum_e9", "latest_sum_e9"))
COLUMNS = _TABLE.columns


@dataclass(frozen=True, slots=True)
class Drift:
    """One group where the sums and the pupils' figures differ: what the pupils' figures have more."""

    group: tuple[str, ...]
    skills: int
    first_sum_e9: int
    latest_sum_e9: int
    last_update: datetime

    def row(self) -> list[Any]:
        return [*self.group, self.skills, self.first_sum_e9, self.latest_sum_e9, self.last_update]


def _per_pupil(database: str, pupils: str, kept: str) -> str:
    """Per group, the pupils' figures: ``pupils`` filters both per-pupil tables (academy, student_id),
    ``kept`` the sums' rows only."""
    return (
        f"SELECT m.academy AS academy, l.level AS level, toInt64(sum(m.skills)) AS skills,"
        f" toInt64(sum(m.first_sum_e9)) AS first_sum_e9, toInt64(sum(m.latest_sum_e9)) AS latest_sum_e9,"
        f" max(m.last_update) AS last_update"
        f" FROM (SELECT academy, student_id, skills, first_sum_e9, latest_sum_e9, last_update"
        f" FROM {database}.{PER_PUPIL} FINAL WHERE ({pupils}) AND ({kept})) AS m"
        f" INNER JOIN (SELECT academy, student_id, max(level) AS level FROM {database}.mastery_current"
        f" WHERE {pupils} GROUP BY academy, student_id) AS l"
        f" ON m.academy = l.academy AND m.student_id = l.student_id GROUP BY academy, level"
    )


def retract(client: Client, database: str, where: str, parameters: dict[str, Any]) -> int:
    """Subtract from the sums the figures of the pupils matching ``where`` (on ``academy``, ``student_id``),
    before their rows are deleted; rows written."""
    sql = _TABLE.negated_sql(_per_pupil(database, where, "1"), _TABLE.stored(database))
    return _TABLE.add(client, database, _TABLE.drifts(client, sql, Drift, parameters))


def drift(client: Client, database: str, retention_days: int | None = None) -> list[Drift]:
    """Per group, the pupils' figures (those retained, with ``retention_days``) minus the sums, where nonzero;
    dated by the group's latest update."""
    per_pupil = _per_pupil(database, "1", retained("last_update", retention_days))
    return _TABLE.drifts(client, _TABLE.drift_sql(per_pupil, _TABLE.stored(database)), Drift)


def reconcile(client: Client, database: str, retention_days: int | None = None) -> int:
    """Make the sums equal to the pupils' figures (those retained) by adding the drift; groups corrected.

    Run it when the sink is quiet, as ``mastery_sums.reconcile`` (same reasons)."""
    fixed = _TABLE.add(client, database, drift(client, database, retention_days))
    log.info("mastery gain sums of %s reconciled: %s group(s) corrected", database, fixed)
    return fixed
