"""SQL that gives one academy read-only access to its own rows on a ClickHouse server.

Generated, not executed: the embedded engine refuses access control, and an operator should read
what is about to change on a server. Two levels:

- ``aggregates`` (for academy and school dashboards): SELECT on the ``v_*`` views only, which hide
  groups under k pupils; no raw or aggregate table is granted. The views run with the rights of a
  definer that cannot log in (``SQL SECURITY DEFINER``), so readers need no grant on the tables.
- ``analyst``: SELECT on every table and view that has an ``academy`` column.

Either way every granted object gets a row policy ``academy = '<academy>'`` for the academy's role,
and the user is ``readonly`` (row policies only make sense for read-only users).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Literal

from clickhouse_connect.driver.client import Client

from vigie.core.contract.referential import ACADEMIES
from vigie.core.errors import ConfigurationError

AccessLevel = Literal["aggregates", "analyst"]
VIEW_DEFINER = "vigie_view_definer"
_SAFE = re.compile(r"^[a-z0-9_]+$")


@dataclass(frozen=True, slots=True)
class Objects:
    """The database's objects that access control is about."""

    views: tuple[str, ...]  # the k-anonymous views (v_*)
    tables: tuple[str, ...]  # stored tables with an academy column


def objects_of(client: Client, database: str) -> Objects:
    rows = client.query(
        "SELECT t.name, t.engine, countIf(c.name = 'academy') > 0 FROM system.tables AS t"
        " LEFT JOIN system.columns AS c ON c.database = t.database AND c.table = t.name"
        " WHERE t.database = {db:String} AND t.engine != 'MaterializedView' GROUP BY t.name, t.engine ORDER BY t.name",
        parameters={"db": database},
    ).result_rows
    views = tuple(name for name, engine, _ in rows if engine == "View" and name.startswith("v_"))
    tables = tuple(name for name, engine, has_academy in rows if has_academy and engine != "View")
    return Objects(views, tables)


def role_name(academy: str, level: AccessLevel) -> str:
    return f"vigie_{_ident(academy)}_{level}"


def user_name(academy: str, level: AccessLevel) -> str:
    return f"vigie_{_ident(academy)}" + ("" if level == "aggregates" else "_analyst")


def _ident(academy: str) -> str:
    if academy not in ACADEMIES:
        raise ConfigurationError(f"unknown academy {academy!r}; known: {', '.join(sorted(ACADEMIES))}")
    return academy.replace("-", "_")


def access_sql(
    objects: Objects,
    database: str,
    academy: str,
    password: str,
    *,
    level: AccessLevel = "aggregates",
    admin_user: str | None = "default",
) -> list[str]:
    """Statements (without trailing ';') creating the academy's role, row policies, grants and user."""
    if not password:
        raise ConfigurationError("the password is empty: set the variable named by --password-env")
    if not _SAFE.match(database.lower()):
        raise ConfigurationError(f"unexpected database name {database!r}")
    role, user = role_name(academy, level), user_name(academy, level)
    granted = objects.views if level == "aggregates" else tuple(sorted(set(objects.tables) | set(objects.views)))
    statements = [f"-- Shared by every academy (idempotent): views run as {VIEW_DEFINER}, who cannot log in."]
    statements.append(
        f"CREATE USER IF NOT EXISTS {VIEW_DEFINER} IDENTIFIED WITH sha256_hash BY "
        f"'{_sha256(secrets.token_hex(32))}' HOST NONE"
    )
    statements.append(f"GRANT SELECT ON {database}.* TO {VIEW_DEFINER}")
    # Once a table has a row policy, users without one may see nothing: give the definer and the
    # administrator (the sink) every row explicitly.
    everyone = ", ".join(u for u in (VIEW_DEFINER, admin_user) if u)
    for table in objects.tables:
        statements.append(
            f"CREATE ROW POLICY IF NOT EXISTS vigie_all_rows ON {database}.{table} FOR SELECT USING 1 TO {everyone}"
        )
    for view in objects.views:
        statements.append(f"ALTER TABLE {database}.{view} MODIFY SQL SECURITY DEFINER DEFINER = {VIEW_DEFINER}")
    statements.append(f"-- Academy {academy}, level {level}.")
    statements.append(f"CREATE ROLE IF NOT EXISTS {role}")
    for name in granted:
        statements.append(
            f"CREATE ROW POLICY OR REPLACE {role} ON {database}.{name} FOR SELECT USING academy = '{academy}' TO {role}"
        )
    for name in granted:
        statements.append(f"GRANT SELECT ON {database}.{name} TO {role}")
    statements.append(
        f"CREATE USER IF NOT EXISTS {user} IDENTIFIED WITH sha256_hash BY '{_sha256(password)}' SETTINGS readonly = 1"
    )
    statements.append(f"GRANT {role} TO {user}")
    statements.append(f"ALTER USER {user} DEFAULT ROLE {role}")
    return statements


def render(statements: list[str]) -> str:
    return "\n".join(s if s.startswith("--") else s + ";" for s in statements) + "\n"


def _sha256(password: str) -> str:
    return hashlib.sha256(password.encode()).hexdigest()
