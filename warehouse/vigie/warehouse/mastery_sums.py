"""The running sums of group mastery (``agg_mastery_school_skill``, migration 0023) kept equal to the pupils'
latest estimates (``mastery_skill_current``).

The materialized view adds, per update, ``+p_after − previous_p_after`` (and +1 pupil on a first update):
each update is inserted once (the sink dedups by event_id), so the sums telescope to the latest estimate
whatever the arrival order. Three things change ``mastery_skill_current`` without an update, and are
handled here, by inserting into the sums the difference they make (the sums are additive):

- erasure: ``retract`` subtracts the pupil's current rows before ``vigie erase`` deletes them;
- retention: rows whose latest update is older than the retention leave ``mastery_skill_current`` at its
  TTL merges; ``reconcile`` (``vigie warehouse mastery-sums --reconcile``, daily) adds ``per-pupil − sums``
  per group, with the retention cut applied to the per-pupil side, so expired pupils leave the sums;
- what the chain cannot see: a pupil whose update comes from another school than their previous one
  (counted +new in the new school, −previous there too), a stream that lost a pupil's state, an update
  from a stream that did not fill ``previous_*``: the same ``reconcile`` repairs them; ``drift`` shows them.

Every row inserted here carries, as ``last_update``, the group's own latest update, so it expires (TTL)
with its group, never alone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from clickhouse_connect.driver.client import Client

from vigie.warehouse.running_sums import RunningSums, retained

log = logging.getLogger(__name__)

SUMS = "agg_mastery_school_skill"
PER_PUPIL = "mastery_skill_current"
GROUP = ("academy", "school_uai", "level", "subject", "skill_code")
_TABLE = RunningSums(SUMS, GROUP, ("pupils", "p_sum_e9", "mastered"))
_KEY = _TABLE.key
COLUMNS = _TABLE.columns


@dataclass(frozen=True, slots=True)
class Drift:
    """One group where the sums and the per-pupil rows differ: what the per-pupil rows have more."""

    group: tuple[str, ...]
    pupils: int
    p_sum_e9: int
    mastered: int
    last_update: datetime

    def row(self) -> list[Any]:
        return [*self.group, self.pupils, self.p_sum_e9, self.mastered, self.last_update]


def _per_pupil(database: str, where: str) -> str:
    return (
        f"SELECT {_KEY}, toInt64(count()) AS pupils, sum(toInt64(round(toFloat64(p) * 1e9))) AS p_sum_e9,"
        f" toInt64(countIf(mastered)) AS mastered, max(occurred_at) AS last_update"
        f" FROM {database}.{PER_PUPIL} FINAL WHERE {where} GROUP BY {_KEY}"
    )


def retract(client: Client, database: str, where: str, parameters: dict[str, Any]) -> int:
    """Subtract from the sums the per-pupil rows matching ``where`` (before they are deleted); rows written."""
    sql = _TABLE.negated_sql(_per_pupil(database, where), _TABLE.stored(database))
    return _TABLE.add(client, database, _TABLE.drifts(client, sql, Drift, parameters))


def drift(client: Client, database: str, retention_days: int | None = None) -> list[Drift]:
    """Per group, the per-pupil figures (rows retained, with ``retention_days``) minus the sums, where nonzero;
    dated by the group's latest update."""
    per_pupil = _per_pupil(database, retained("occurred_at", retention_days))
    return _TABLE.drifts(client, _TABLE.drift_sql(per_pupil, _TABLE.stored(database)), Drift)


def reconcile(client: Client, database: str, retention_days: int | None = None) -> int:
    """Make the sums equal to the per-pupil rows (those retained) by adding the drift; groups corrected.

    Run it when the sink is quiet (at night): an update landing while it reads could be counted on one side
    only, and an update whose predecessor is still in flight would be corrected twice; the next run repairs
    both once the stream is whole.
    """
    fixed = _TABLE.add(client, database, drift(client, database, retention_days))
    log.info("mastery sums of %s reconciled: %s group(s) corrected", database, fixed)
    return fixed
