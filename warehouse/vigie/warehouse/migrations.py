"""The warehouse schema: numbered, forward-only migrations for what holds data, one file per plain view.

- ``sql/NNNN_name.sql``: tables and materialized views. Each file may hold several statements separated
  by ``;`` at a line end. An applied migration is recorded with its checksum; editing it afterwards is an
  error (write a new migration instead). A materialized view created by a migration is backfilled from
  the rows its source table already holds, so aggregates never start half empty.
- ``sql/views/<name>.sql``: one plain view (``CREATE OR REPLACE VIEW``) per file. Views hold no data: at
  every ``migrate`` each is rendered from the current settings and re-created when its definition differs
  from the one applied last (``schema_views``), so a changed view or a new ``min_group_size`` applies at
  the next start. A view that reads another is created after it.

``${database}``, ``${retention_days}`` and ``${min_group_size}`` are substituted in both.
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
_VIEW_FILE = re.compile(r"^([a-z][a-z0-9_]*)\.sql$")

#: Checksums that migrations 0002-0012 had before their plain views moved to ``sql/views/``: a warehouse
#: migrated then is still up to date (the views themselves are re-created from their files).
_CHECKSUMS_BEFORE_VIEW_FILES = {
    1: "56f4d94892c0b404", 2: "fb247006c2893f7f", 3: "01b4d3e943386333", 4: "bfa1e5944f073441",
    5: "704fc052a33a5847", 6: "061444c7c370fbee", 7: "13a361c323c0a3f2", 8: "f9de432d96897ea5",
    9: "9578348a466cbb74", 10: "a0180631e7f620c3", 11: "09d221e3d91b0bd9", 12: "df2d1251f18c01e9",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()[:16]

    def statements(self, warehouse: WarehouseSettings) -> list[str]:
        text = _render(self.sql, warehouse)
        return [s.strip() for s in re.split(r";\s*$", text, flags=re.M) if _has_code(s)]


def _render(sql: str, warehouse: WarehouseSettings) -> str:
    return Template(sql).substitute(
        database=warehouse.database,
        retention_days=warehouse.retention_days,
        retention_seconds=warehouse.retention_days * 86_400,
        min_group_size=warehouse.min_group_size,
    )


@dataclass(frozen=True, slots=True)
class View:
    """One plain view, from ``sql/views/<name>.sql``."""

    name: str
    sql: str

    def statement(self, warehouse: WarehouseSettings) -> str:
        return _render(self.sql, warehouse).strip().rstrip(";").strip()

    def reads(self, names: set[str]) -> set[str]:
        """The other views among ``names`` that this one reads."""
        return {n for n in names if n != self.name and re.search(rf"\$\{{database\}}\.{n}\b", self.sql)}


def views() -> list[View]:
    """Every view shipped with Vigie, each after the views it reads."""
    found: dict[str, View] = {}
    for entry in resources.files("vigie.warehouse").joinpath("sql", "views").iterdir():
        if match := _VIEW_FILE.match(entry.name):
            found[match[1]] = View(match[1], entry.read_text(encoding="utf-8"))
    ordered: list[View] = []
    pending = dict(sorted(found.items()))
    while pending:
        ready = [v for v in pending.values() if not v.reads(set(pending))]
        if not ready:
            raise ConfigurationError(f"views read each other in a cycle: {sorted(pending)}")
        for view in ready:
            ordered.append(pending.pop(view.name))
    return ordered


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
            if applied[migration.version] not in (
                migration.checksum,
                _CHECKSUMS_BEFORE_VIEW_FILES.get(migration.version),
            ):
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


_DROP_VIEW = re.compile(r"^DROP (?:VIEW|TABLE) (?:IF EXISTS )?[\w]+\.(\w+)", re.I)
_MATERIALIZED_VIEW = re.compile(r"^CREATE MATERIALIZED VIEW (?:IF NOT EXISTS )?[\w]+\.(\w+)", re.I)


def refresh_views(client: Client, warehouse: WarehouseSettings) -> list[str]:
    """Re-create the plain views whose rendered definition changed (or that are missing); return them.

    Unchanged views are left alone: re-creating one would reset what an operator set on it on a
    server (``SQL SECURITY DEFINER`` for the academy users, see ``vigie warehouse access-sql``).
    """
    db = warehouse.database
    latest = {view.name: view.statement(warehouse) for view in views()}
    client.command(
        f"CREATE TABLE IF NOT EXISTS {db}.schema_views (name String, checksum String,"
        " applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) ENGINE = ReplacingMergeTree(applied_at) ORDER BY name"
    )
    recorded: dict[str, str] = {
        row[0]: row[1] for row in client.query(f"SELECT name, checksum FROM {db}.schema_views FINAL").result_rows
    }
    existing = {
        r[0]
        for r in client.query(
            "SELECT name FROM system.tables WHERE database = {db:String} AND engine = 'View'", parameters={"db": db}
        ).result_rows
    }
    refreshed = []
    for name, definition in latest.items():
        checksum = hashlib.sha256(definition.encode()).hexdigest()[:16]
        if name in existing and recorded.get(name) == checksum:
            continue
        client.command(definition)
        client.insert(f"{db}.schema_views", [[name, checksum]], column_names=["name", "checksum"])
        log.info("view %s.%s (re)created", db, name)
        refreshed.append(name)
    return refreshed


def backfill(client: Client, database: str, view: str) -> int:
    """Feed a new materialized view's target with what its source already holds; rows written."""
    from vigie.warehouse.aggregates import recompute

    return recompute(client, database, view, where=None)
