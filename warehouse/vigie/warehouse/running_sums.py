"""What every table of running sums shares: compared with the per-pupil figures it sums, and corrected by
inserting the difference (the sums are additive).

A module of sums (``mastery_sums``, ``gain_sums``, ``effect_sums``) says which table it keeps, its group
columns and its measures (integers; ``last_update`` dates each row), and how the per-pupil side is computed;
the SQL that compares, negates and reads the differences back is the same for all and lives here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from clickhouse_connect.driver.client import Client

D = TypeVar("D")


@dataclass(frozen=True, slots=True)
class RunningSums:
    """A sums table: ``group`` columns, integer ``measures``, then ``last_update``."""

    table: str
    group: tuple[str, ...]
    measures: tuple[str, ...]

    @property
    def key(self) -> str:
        return ", ".join(self.group)

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.group, *self.measures, "last_update")

    def stored(self, database: str, where: str = "1") -> str:
        """Per group, what the table holds (rows matching ``where``)."""
        sums = ", ".join(f"sum({m}) AS {m}" for m in self.measures)
        return (
            f"SELECT {self.key}, {sums}, max(last_update) AS last_update FROM {database}.{self.table}"
            f" WHERE {where} GROUP BY {self.key}"
        )

    def drift_sql(self, per_pupil: str, stored: str) -> str:
        """Per group, ``per_pupil`` minus ``stored`` where any measure differs, dated by the later update."""
        differences = ", ".join(f"t.{m} - s.{m} AS d_{m}" for m in self.measures)
        nonzero = " OR ".join(f"d_{m} != 0" for m in self.measures)
        return (
            f"SELECT {self.key}, {differences}, greatest(t.last_update, s.last_update)"
            f" FROM ({per_pupil}) AS t FULL OUTER JOIN ({stored}) AS s USING ({self.key})"
            f" WHERE {nonzero} ORDER BY {self.key}"
        )

    def negated_sql(self, per_pupil: str, stored: str) -> str:
        """Per group of ``per_pupil``, its figures negated (what retracts them), dated by the group's latest
        update so that the row expires with its group."""
        negated = ", ".join(f"-t.{m}" for m in self.measures)
        return (
            f"SELECT {self.key}, {negated}, greatest(t.last_update, s.last_update)"
            f" FROM ({per_pupil}) AS t LEFT JOIN ({stored}) AS s USING ({self.key})"
        )

    def drifts(
        self, client: Client, sql: str, make: Callable[..., D], parameters: dict[str, Any] | None = None
    ) -> list[D]:
        """Rows of ``sql`` (group, measures, a time) as drifts built by ``make(group, *measures, time)``."""
        width, count = len(self.group), len(self.measures)
        return [
            make(tuple(str(v) for v in r[:width]), *(int(v) for v in r[width : width + count]), r[width + count])
            for r in client.query(sql, parameters=parameters).result_rows
        ]

    def add(self, client: Client, database: str, rows: Sequence[Any]) -> int:
        """Insert ``rows`` (drifts, each with ``row()``) into the sums; rows written."""
        if rows:
            client.insert(f"{database}.{self.table}", [r.row() for r in rows], column_names=list(self.columns))
        return len(rows)


def retained(column: str, retention_days: int | None) -> str:
    """The condition keeping rows whose ``column`` is within the retention (all rows without one)."""
    if retention_days is None:
        return "1"
    return f"toDateTime({column}) + INTERVAL {int(retention_days)} DAY > now()"
