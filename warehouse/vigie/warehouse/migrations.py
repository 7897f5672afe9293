"""Numbered, forward-only schema migrations (``sql/NNNN_name.sql``), applied idempotently.

Each file may hold several statements separated by ``;`` at a line end. ``${database}``,
``${retention_days}``, ``${retention_seconds}`` and ``${min_group_size}`` are substituted. An applied migration
is recorded with
its checksum; editing it afterwards is an error (write a new migration instead).

Three things happen besides applying new files:

- a materialized view created by a migration is backfilled from the rows its source table already
  holds (an upgrade of a warehouse that has history), so aggregates never start half empty;
- plain views (``CREATE OR REPLACE VIEW``) hold no data: at every ``migrate`` the latest definition of
  each is rendered from the current settings and re-created if it differs from the one applied last
  (``schema_views``), so a new ``min_group_size`` applies at the next start;
- a table or materialized view that an applied migration created and that is missing now (dropped by
  hand, lost) is re-created from its migration, with the later idempotent ``ALTER``s on it; a re-created
  aggregate is backfilled from its source (``repair``). What cannot be repaired is said exactly.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from importlib import resources
from string import Template

from clickhouse_connect.driver.client import Client

from vigie.core.errors import ConfigurationError
from vigie.core.settings import WarehouseSettings

log = logging.getLogger(__name__)

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()[:16]

    def statements(self, warehouse: WarehouseSettings) -> list[str]:
        text = Template(self.sql).substitute(
            database=warehouse.database,
            retention_days=warehouse.retention_days,
            retention_seconds=warehouse.retention_days * 86_400,
            min_group_size=warehouse.min_group_size,
        )
        return [s.strip() for s in re.split(r";\s*$", text, flags=re.M) if _has_code(s)]


def _code(statement: str) -> str:
    """The statement without its leading comment lines."""
    lines = statement.splitlines()
    while lines and (not lines[0].strip() or lines[0].strip().startswith("--")):
        lines.pop(0)
    return "\n".join(lines)


def _has_code(statement: str) -> bool:
    return any(line.strip() and not line.strip().startswith("--") for line in statement.splitlines())


def available() -> list[Migration]:
    """All migrations shipped with Vigie, in order."""
    found = []
    for entry in resources.files("vigie.warehouse").joinpath("sql").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise ConfigurationError(f"two migrations share a number: {versions}")
    return found


def migrate(client: Client, warehouse: WarehouseSettings) -> list[Migration]:
    """Apply the migrations not yet applied and repair what is missing; return the applied ones."""
    return migrate_and_repair(client, warehouse)[0]


def migrate_and_repair(client: Client, warehouse: WarehouseSettings) -> tuple[list[Migration], Repair]:
    """Apply the migrations not yet applied, then ``repair``; safe to call at every start."""
    db = warehouse.database
    client.command(f"CREATE DATABASE IF NOT EXISTS {db}")
    client.command(
        f"CREATE TABLE IF NOT EXISTS {db}.schema_migrations (version UInt32, name String, checksum String,"
        " applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) ENGINE = ReplacingMergeTree ORDER BY version"
    )
    applied = {
        int(v): c for v, c in client.query(f"SELECT version, checksum FROM {db}.schema_migrations FINAL").result_rows
    }
    done = []
    for migration in available():
        if migration.version in applied:
            if applied[migration.version] != migration.checksum:
                raise ConfigurationError(
                    f"migration {migration.version:04d}_{migration.name} changed after it was applied; "
                    "migrations are forward-only: add a new one"
                )
            continue
        for statement in migration.statements(warehouse):
            client.command(statement)
            view = _MATERIALIZED_VIEW.match(_code(statement))
            if view:
                backfill(client, db, view[1])
        client.insert(
            f"{db}.schema_migrations",
            [[migration.version, migration.name, migration.checksum]],
            column_names=["version", "name", "checksum"],
        )
        log.info("applied migration %04d_%s", migration.version, migration.name)
        done.append(migration)
    repaired = repair(client, warehouse)
    refresh_views(client, warehouse)
    return done, repaired


_CREATED = re.compile(r"^CREATE (TABLE|MATERIALIZED VIEW) IF NOT EXISTS [\w]+\.(\w+)", re.I)
_ALTERED = re.compile(r"^ALTER TABLE [\w]+\.(\w+) .*\bIF (?:NOT )?EXISTS\b", re.I | re.S)


@dataclass
class Repair:
    """What ``repair`` re-created, what it backfilled, and what it could not make whole."""

    recreated: list[str]
    backfilled: dict[str, int]
    problems: list[str]


def _objects(warehouse: WarehouseSettings) -> dict[str, list[str]]:
    """Every table and materialized view the migrations leave, with the statements that make it, in order."""
    made: dict[str, list[str]] = {}
    for migration in available():
        for statement in migration.statements(warehouse):
            code = _code(statement)
            if created := _CREATED.match(code):
                made[created[2]] = [statement]
            elif (altered := _ALTERED.match(code)) and altered[1] in made:
                made[altered[1]].append(statement)
            elif dropped := _DROP_VIEW.match(code):
                made.pop(dropped[1], None)
    return made


def repair(client: Client, warehouse: WarehouseSettings) -> Repair:
    """Re-create the migrations' tables and materialized views that are missing; backfill re-created targets.

    A lost table's rows are gone (Kafka may still hold the last days: reset the sink's group to replay
    them); a re-created materialized view whose target survived misses the rows stored while it was
    gone: both are reported as problems, with the object named.
    """
    from vigie.warehouse.aggregates import materialized_views

    db = warehouse.database
    existing = {r[0] for r in client.query(
        "SELECT name FROM system.tables WHERE database = {db:String}", parameters={"db": db}
    ).result_rows}  # fmt: skip
    report = Repair([], {}, [])
    for name, statements in _objects(warehouse).items():
        if name in existing:
            continue
        for statement in statements:
            client.command(statement)
        report.recreated.append(name)
        log.warning("%s.%s was missing: re-created from its migration", db, name)
    if not report.recreated:
        return report
    recreated = set(report.recreated)
    for view in materialized_views(client, db):
        if view.target in recreated:
            report.backfilled[view.target] = report.backfilled.get(view.target, 0) + backfill(client, db, view.name)
        elif view.name in recreated:
            report.problems.append(
                f"{db}.{view.name} was missing: rows stored while it was gone are not in {db}.{view.target}"
            )
    for name in report.recreated:
        if name not in report.backfilled and not any(v.name == name for v in materialized_views(client, db)):
            report.problems.append(f"{db}.{name} was missing: re-created empty (its rows are lost)")
    for problem in report.problems:
        log.warning("%s", problem)
    return report


_MATERIALIZED_VIEW = re.compile(r"^CREATE MATERIALIZED VIEW (?:IF NOT EXISTS )?[\w]+\.(\w+)", re.I)
_VIEW = re.compile(r"^CREATE OR REPLACE VIEW [\w]+\.(\w+)", re.I)
_DROP_VIEW = re.compile(r"^DROP (?:VIEW|TABLE) (?:IF EXISTS )?[\w]+\.(\w+)", re.I)


def refresh_views(client: Client, warehouse: WarehouseSettings) -> list[str]:
    """Re-create the plain views whose rendered definition changed (or that are missing); return them.

    Unchanged views are left alone: re-creating one would reset what an operator set on it on a
    server (``SQL SECURITY DEFINER`` for the academy users, see ``vigie warehouse access-sql``).
    """
    db = warehouse.database
    latest: dict[str, str | None] = {}
    for migration in available():
        for statement in migration.statements(warehouse):
            if match := _VIEW.match(_code(statement)):
                latest[match[1]] = statement
            elif match := _DROP_VIEW.match(_code(statement)):
                latest[match[1]] = None
    client.command(
        f"CREATE TABLE IF NOT EXISTS {db}.schema_views (name String, checksum String,"
        " applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) ENGINE = ReplacingMergeTree(applied_at) ORDER BY name"
    )
    recorded = dict(client.query(f"SELECT name, checksum FROM {db}.schema_views FINAL").result_rows)
    existing = {
        r[0]
        for r in client.query(
            "SELECT name FROM system.tables WHERE database = {db:String} AND engine = 'View'", parameters={"db": db}
        ).result_rows
    }
    refreshed = []
    for name, statement in latest.items():
        if statement is None:
            continue
        checksum = hashlib.sha256(statement.encode()).hexdigest()[:16]
        if name in existing and recorded.get(name) == checksum:
            continue
        client.command(statement)
        client.insert(f"{db}.schema_views", [[name, checksum]], column_names=["name", "checksum"])
        log.info("view %s.%s (re)created", db, name)
        refreshed.append(name)
    return refreshed


def backfill(client: Client, database: str, view: str) -> int:
    """Feed a new materialized view's target with what its source already holds; rows written."""
    from vigie.warehouse.aggregates import recompute

    return recompute(client, database, view, where=None)
