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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from clickhouse_connect.driver.client import Client

log = logging.getLogger(__name__)

SUMS = "agg_mastery_school_skill"
PER_PUPIL = "mastery_skill_current"
GROUP = ("academy", "school_uai", "level", "subject", "skill_code")
_KEY = ", ".join(GROUP)


COLUMNS = (*GROUP, "pupils", "p_sum_e9", "mastered", "last_update")


D = TypeVar("D")


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


def _sums(database: str) -> str:
    return (
        f"SELECT {_KEY}, sum(pupils) AS pupils, sum(p_sum_e9) AS p_sum_e9, sum(mastered) AS mastered,"
        f" max(last_update) AS last_update FROM {database}.{SUMS} GROUP BY {_KEY}"
    )


def query_drifts(
    client: Client, sql: str, width: int, make: Callable[..., D], parameters: dict[str, Any] | None = None
) -> list[D]:
    """Rows of ``sql`` (``width`` group columns, three integers, a time) as drifts built by ``make``; shared
    by every running-sums module whose figures are three integers."""
    return [
        make(tuple(str(v) for v in r[:width]), int(r[width]), int(r[width + 1]), int(r[width + 2]), r[width + 3])
        for r in client.query(sql, parameters=parameters).result_rows
    ]


def insert_drifts(client: Client, table: str, columns: tuple[str, ...], rows: Sequence[Any]) -> int:
    """Add ``rows`` (drifts, each with ``row()``) to the sums ``table``; rows written."""
    if rows:
        client.insert(table, [r.row() for r in rows], column_names=list(columns))
    return len(rows)


def _drifts(client: Client, sql: str, parameters: dict[str, Any] | None = None) -> list[Drift]:
    return query_drifts(client, sql, len(GROUP), Drift, parameters)


def _add(client: Client, database: str, rows: list[Drift]) -> int:
    return insert_drifts(client, f"{database}.{SUMS}", COLUMNS, rows)


def retract(client: Client, database: str, where: str, parameters: dict[str, Any]) -> int:
    """Subtract from the sums the per-pupil rows matching ``where`` (before they are deleted); rows written."""
    negated = _drifts(
        client,
        f"SELECT {_KEY}, -t.pupils, -t.p_sum_e9, -t.mastered, greatest(t.last_update, s.last_update)"
        f" FROM ({_per_pupil(database, where)}) AS t LEFT JOIN ({_sums(database)}) AS s USING ({_KEY})",
        parameters,
    )
    return _add(client, database, negated)


def drift(client: Client, database: str, retention_days: int | None = None) -> list[Drift]:
    """Per group, the per-pupil figures (rows retained, with ``retention_days``) minus the sums, where nonzero;
    dated by the group's latest update."""
    return _drifts(
        client,
        f"SELECT {_KEY}, t.pupils - s.pupils AS d_pupils, t.p_sum_e9 - s.p_sum_e9 AS d_p_sum,"
        f" t.mastered - s.mastered AS d_mastered, greatest(t.last_update, s.last_update)"
        f" FROM ({_per_pupil(database, _retained(retention_days))}) AS t"
        f" FULL OUTER JOIN ({_sums(database)}) AS s USING ({_KEY})"
        f" WHERE d_pupils != 0 OR d_p_sum != 0 OR d_mastered != 0 ORDER BY {_KEY}",
    )


def reconcile(client: Client, database: str, retention_days: int | None = None) -> int:
    """Make the sums equal to the per-pupil rows (those retained) by adding the drift; groups corrected.

    Run it when the sink is quiet (at night): an update landing while it reads could be counted on one side
    only, and an update whose predecessor is still in flight would be corrected twice; the next run repairs
    both once the stream is whole.
    """
    fixed = _add(client, database, drift(client, database, retention_days))
    log.info("mastery sums of %s reconciled: %s group(s) corrected", database, fixed)
    return fixed


def _retained(retention_days: int | None) -> str:
    if retention_days is None:
        return "1"
    return f"toDateTime(occurred_at) + INTERVAL {int(retention_days)} DAY > now()"
