"""Right to erasure: remove one pupil from every table of the warehouse and from the stream's state.

Warehouse side: every table that has a ``student_id`` column loses the pupil's rows (``ALTER TABLE
... DELETE`` with ``mutations_sync``: the parts are rewritten, the data is physically gone, not only
masked). Aggregate tables without per-pupil rows (daily activity, active pupils, signal counts) still
carry the pupil inside their counts and distinct-pupil states: their rows for the classes the pupil
belonged to are deleted and recomputed from the raw tables, now without the pupil, through the very
SELECT of their materialized views (see ``vigie.warehouse.aggregates``); daily aggregates kept per academy
(no class column) are rebuilt the same way for the pupil's (academy, day) pairs. The group mastery sums
(``agg_mastery_school_skill``) lose the pupil's latest estimates by subtraction before their rows go
(``vigie.warehouse.mastery_sums.retract``), and the progress sums per academy and level (``agg_level_mastery_gain``)
lose the pupil's figures the same way (``vigie.warehouse.gain_sums.retract``); the platform effect's cells
(``agg_platform_effect``) are reconciled for the pupil's academies once their rows are gone.

Stream side: an ``ErasureRequested`` event goes to the learning-events topic, keyed by the pupil, so
each processor meets it after the pupil's earlier events and deletes their state (changelog
tombstones). It is published first: the stream stops producing the pupil's outputs, then the
warehouse forgets them. Erasure is idempotent; run it again after the sink drained late outputs.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from clickhouse_connect.driver.client import Client

from vigie.core.contract.events import ErasureRequested
from vigie.core.errors import ConfigurationError
from vigie.core.settings import VigieSettings
from vigie.warehouse import effect_sums, gain_sums, mastery_sums
from vigie.warehouse.aggregates import columns_of, materialized_views, recompute

log = logging.getLogger(__name__)

_MUTATION = {"mutations_sync": 2}
#: The raw tables the daily aggregates are fed from: the pupil's (academy, day) pairs are read there.
_DAILY_SOURCES = ("answers", "session_events")


@dataclass
class ErasureReport:
    student_id: str
    academies: list[str] = field(default_factory=list)
    deleted: dict[str, int] = field(default_factory=dict)
    recomputed: dict[str, int] = field(default_factory=dict)
    classes: list[tuple[str, str, str]] = field(default_factory=list)
    #: (academy, day) of the pupil's answers and sessions: the rows of academy-grain daily aggregates to rebuild.
    days: list[tuple[str, date]] = field(default_factory=list)
    published: int = 0


def _tables_with(client: Client, database: str, column: str) -> list[str]:
    return [
        r[0]
        for r in client.query(
            "SELECT c.table FROM system.columns AS c INNER JOIN system.tables AS t"
            " ON c.database = t.database AND c.table = t.name"
            " WHERE c.database = {db:String} AND c.name = {col:String} AND t.engine LIKE '%MergeTree' ORDER BY c.table",
            parameters={"db": database, "col": column},
        ).result_rows
    ]


def _pupil_filter(academy: str | None) -> str:
    return "student_id = {student:String}" + (" AND academy = {academy:String}" if academy else "")


def find_pupil(client: Client, database: str, student_id: str, academy: str | None = None) -> ErasureReport:
    """What the warehouse holds about a pupil: rows per table, academies and classes (nothing deleted)."""
    report = ErasureReport(student_id)
    params = {"student": student_id, "academy": academy or ""}
    where = _pupil_filter(academy)
    academies: set[str] = set()
    classes: set[tuple[Any, ...]] = set()
    days: set[tuple[str, date]] = set()
    for table in _tables_with(client, database, "student_id"):
        columns = set(columns_of(client, database, table))
        count = client.query(f"SELECT count() FROM {database}.{table} WHERE {where}", parameters=params).result_rows
        report.deleted[table] = int(count[0][0])
        if not report.deleted[table]:
            continue
        if "academy" in columns:
            academies.update(
                r[0]
                for r in client.query(
                    f"SELECT DISTINCT academy FROM {database}.{table} WHERE {where} AND academy != ''",
                    parameters=params,
                ).result_rows
            )
        if {"academy", "school_uai", "class_id"} <= columns:
            classes.update(
                tuple(row)
                for row in client.query(
                    f"SELECT DISTINCT academy, school_uai, class_id FROM {database}.{table} WHERE {where}",
                    parameters=params,
                ).result_rows
            )
        if table in _DAILY_SOURCES:
            days.update(
                (str(a), d)
                for a, d in client.query(
                    f"SELECT DISTINCT academy, toDate(occurred_at, 'Europe/Paris') FROM {database}.{table}"
                    f" WHERE {where}",
                    parameters=params,
                ).result_rows
            )
    report.academies = sorted(academies)
    report.classes = sorted((str(a), str(s), str(c)) for a, s, c in classes)
    report.days = sorted(days)
    return report


def erase_from_warehouse(client: Client, database: str, student_id: str, academy: str | None = None) -> ErasureReport:
    """Delete the pupil from every table with a ``student_id`` and recompute the aggregates they touched."""
    report = find_pupil(client, database, student_id, academy)
    params = {"student": student_id, "academy": academy or ""}
    where = _pupil_filter(academy)
    if report.deleted.get(mastery_sums.PER_PUPIL):  # their latest estimates leave the group sums first
        report.recomputed[mastery_sums.SUMS] = mastery_sums.retract(client, database, where, params)
    if report.deleted.get(gain_sums.PER_PUPIL):  # and their progress leaves the sums per academy and level
        report.recomputed[gain_sums.SUMS] = gain_sums.retract(client, database, where, params)
    for table, count in report.deleted.items():
        if count:
            client.command(
                f"ALTER TABLE {database}.{table} DELETE WHERE {where}", parameters=params, settings=_MUTATION
            )
    if report.deleted.get("agg_pupil_usage") or report.deleted.get(gain_sums.PER_PUPIL):
        _reconcile_effect_cells(client, database, report)
    if report.classes:
        _recompute_classes(client, database, report)
    if report.days:
        _recompute_academy_days(client, database, report)
    log.info(
        "erased pupil from %s: %s rows deleted, %s aggregate rows recomputed",
        database,
        sum(report.deleted.values()),
        sum(report.recomputed.values()),
    )
    return report


def _reconcile_effect_cells(client: Client, database: str, report: ErasureReport) -> None:
    """The platform effect's cells are reconciled, not fed: once the pupil's rows are gone, reconcile their
    academies (with the cells' own retention), so the cells hold exactly the remaining pupils."""
    from vigie.warehouse.retention import retention

    days = next((t.days for t in retention(client, database) if t.table == effect_sums.SUMS), None)
    report.recomputed[effect_sums.SUMS] = effect_sums.reconcile(client, database, days, report.academies)


def _recompute_classes(client: Client, database: str, report: ErasureReport) -> None:
    """Rebuild the rows of per-class aggregates (no per-pupil rows) for the pupil's classes."""
    with_pupils = set(_tables_with(client, database, "student_id"))
    by_target: dict[str, list[str]] = {}
    for view in materialized_views(client, database):
        by_target.setdefault(view.target, []).append(view.name)
    classes = ", ".join(f"({_quote(a)}, {_quote(s)}, {_quote(c)})" for a, s, c in report.classes)
    where = f"(academy, school_uai, class_id) IN ({classes})"
    for target, views in sorted(by_target.items()):
        if target in with_pupils or not {"academy", "school_uai", "class_id"} <= set(
            columns_of(client, database, target)
        ):
            continue  # rows of the pupil were deleted directly, or the table holds no class data
        before = client.query(f"SELECT count() FROM {database}.{target} WHERE {where}").result_rows[0][0]
        client.command(f"ALTER TABLE {database}.{target} DELETE WHERE {where}", settings=_MUTATION)
        written = sum(recompute(client, database, view, where=where) for view in views)
        report.deleted[target] = int(before)
        report.recomputed[target] = written


def _recompute_academy_days(client: Client, database: str, report: ErasureReport) -> None:
    """Rebuild the rows of daily aggregates kept per academy (no class, no pupil rows) for the pupil's days."""
    with_pupils = set(_tables_with(client, database, "student_id"))
    by_target: dict[str, list[str]] = {}
    for view in materialized_views(client, database):
        by_target.setdefault(view.target, []).append(view.name)
    pairs = ", ".join(f"({_quote(a)}, toDate('{d.isoformat()}'))" for a, d in report.days)
    where = f"(academy, day) IN ({pairs})"
    for target, views in sorted(by_target.items()):
        columns = set(columns_of(client, database, target))
        if target in with_pupils or "class_id" in columns or not {"academy", "day"} <= columns:
            continue  # per-pupil rows (deleted), per-class rows (_recompute_classes), or not daily
        before = client.query(f"SELECT count() FROM {database}.{target} WHERE {where}").result_rows[0][0]
        client.command(f"ALTER TABLE {database}.{target} DELETE WHERE {where}", settings=_MUTATION)
        written = sum(recompute(client, database, view, where=where) for view in views)
        report.deleted[target] = int(before)
        report.recomputed[target] = written


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def erasure_events(student_id: str, academies: list[str]) -> list[ErasureRequested]:
    now = datetime.now(UTC)
    return [
        ErasureRequested(event_id=uuid.uuid4(), occurred_at=now, academy=a, student_id=student_id) for a in academies
    ]


def erase_student(
    settings: VigieSettings,
    client: Client,
    student_id: str,
    academy: str | None = None,
    *,
    publish: Callable[[Sequence[ErasureRequested]], None],
) -> ErasureReport:
    """Publish the erasure to the stream (``publish``: the caller's producer), then erase the warehouse."""
    database = settings.warehouse.database
    academies = [academy] if academy else find_pupil(client, database, student_id).academies
    if not academies:
        raise ConfigurationError(
            "the warehouse holds no row of this pupil, so their academy is unknown: pass --academy to still "
            "erase them from the stream's state"
        )
    events = erasure_events(student_id, academies)
    publish(events)
    report = erase_from_warehouse(client, database, student_id, academy)
    report.academies = academies
    report.published = len(events)
    return report
