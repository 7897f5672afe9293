"""Generated access SQL (the embedded engine refuses access control, so its form is checked) and `vigie sql`."""

from __future__ import annotations

import csv
import io
import json
import re

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from tests import factories
from tests.integration.warehouse_data import store
from vigie.core.errors import ConfigurationError, UsageError
from vigie.warehouse.access import access_sql, objects_of, role_name, user_name
from vigie.warehouse.query import run_query, write

pytestmark = pytest.mark.integration

RAW = {"answers", "session_events", "mastery_updates", "signals", "dead_letters"}
_GRANT = re.compile(r"^GRANT (?P<what>.+?) ON (?P<db>\w+)\.(?P<obj>[\w*]+) TO (?P<to>\w+)$")
_ROLE_GRANT = re.compile(r"^GRANT (?P<role>\w+) TO (?P<user>\w+)$")
_POLICY = re.compile(
    r"^CREATE ROW POLICY .*? ON (?P<db>\w+)\.(?P<obj>\w+) FOR SELECT USING (?P<cond>.+) TO (?P<to>.+)$"
)


def _parse(statements: list[str]):
    grants, role_grants, policies = [], [], []
    for statement in statements:
        if statement.startswith("--"):
            continue
        assert statement.split()[0] in {"CREATE", "GRANT", "ALTER"}, statement
        assert not re.search(r"\b(INSERT|DROP|TRUNCATE|DELETE|ALL PRIVILEGES)\b", statement), statement
        if m := _GRANT.match(statement):
            grants.append(m.groupdict())
        elif m := _ROLE_GRANT.match(statement):
            role_grants.append(m.groupdict())
        elif m := _POLICY.match(statement):
            policies.append(m.groupdict())
    return grants, role_grants, policies


@pytest.mark.parametrize("level", ["aggregates", "analyst"])
def test_access_sql_grants_select_only_and_every_granted_object_has_an_academy_policy(
    settings, warehouse, level
) -> None:
    db = settings.warehouse.database
    objects = objects_of(warehouse, db)
    statements = access_sql(objects, db, "lyon", "s3cret", level=level)
    for statement in statements:  # the real ClickHouse parser accepts every statement
        if not statement.startswith("--"):
            warehouse.query(f"EXPLAIN AST {statement}")
    assert not any("s3cret" in s for s in statements)  # only its hash is printed
    grants, role_grants, policies = _parse(statements)
    role, user = role_name("lyon", level), user_name("lyon", level)

    assert {g["what"] for g in grants} == {"SELECT"}
    granted = {g["obj"] for g in grants if g["to"] == role}
    covered = {p["obj"] for p in policies if p["to"] == role and p["cond"] == "academy = 'lyon'"}
    assert granted and granted <= covered
    assert role_grants == [{"role": role, "user": user}]
    assert any(s.startswith(f"CREATE USER IF NOT EXISTS {user} ") and "readonly = 1" in s for s in statements)
    if level == "aggregates":
        assert granted == set(objects.views)
        assert all(name.startswith("v_") for name in granted)
        assert not granted & (RAW | set(objects.tables))
    else:
        assert granted >= RAW
        assert "skill_parameters" not in granted  # no academy column: no row policy possible


def test_access_sql_refuses_unknown_academy_and_empty_password(settings, warehouse) -> None:
    objects = objects_of(warehouse, settings.warehouse.database)
    with pytest.raises(ConfigurationError):
        access_sql(objects, settings.warehouse.database, "atlantis", "pw")
    with pytest.raises(ConfigurationError):
        access_sql(objects, settings.warehouse.database, "lyon", "")


def test_sql_writes_csv_and_parquet_and_refuses_writes(settings, warehouse, tmp_path) -> None:
    db = settings.warehouse.database
    store(warehouse, db, [factories.answer(student_id=factories.student(i)) for i in range(3)])
    result = run_query(
        warehouse, f"SELECT student_id, event_id, correct FROM {db}.answers ORDER BY student_id", engine_readonly=False
    )
    assert result.num_rows == 3
    write(result, "csv", tmp_path / "a.csv")
    write(result, "parquet", tmp_path / "a.parquet")
    from_csv = pacsv.read_csv(tmp_path / "a.csv")
    assert from_csv.num_rows == 3 and from_csv.column_names == ["student_id", "event_id", "correct"]
    assert len(from_csv.column("event_id")[0].as_py()) == 36  # a UUID's text form
    assert pq.read_table(tmp_path / "a.parquet").num_rows == 3
    with pytest.raises(UsageError):
        run_query(warehouse, f"DROP TABLE {db}.answers", engine_readonly=False)
    assert warehouse.query(f"SELECT count() FROM {db}.answers").result_rows == [(3,)]


def test_sql_exports_aggregate_states_and_datetimes_readably(settings, warehouse, tmp_path) -> None:
    """The docs' export of ``agg_activity_daily`` crashed on its binary aggregate-state column, and a
    DateTime came out as Unix seconds."""
    db = settings.warehouse.database
    store(warehouse, db, [factories.answer(student_id=factories.student(i)) for i in range(3)])
    result = run_query(warehouse, f"SELECT * FROM {db}.agg_activity_daily", engine_readonly=False)
    assert result.num_rows >= 1
    write(result, "csv", tmp_path / "agg.csv")
    assert pacsv.read_csv(tmp_path / "agg.csv").num_rows == result.num_rows
    stamp = run_query(
        warehouse, "SELECT toDateTime('2025-10-06 08:30:00', 'UTC') AS at, 7::UInt32 AS n", engine_readonly=False
    )
    write(stamp, "json", tmp_path / "t.json")
    [row] = json.loads((tmp_path / "t.json").read_text())
    assert row["at"].startswith("2025-10-06") and "08:30:00" in row["at"] and row["n"] == 7


def test_cli_sql_and_access_sql(settings, warehouse, tmp_path, monkeypatch) -> None:
    from typer.testing import CliRunner

    from vigie.cli import app

    db = settings.warehouse.database
    store(warehouse, db, [factories.answer(student_id=factories.student(i)) for i in range(2)])
    monkeypatch.setenv("VIGIE_STATE_DIR", str(settings.state_dir))  # the engine this process already opened
    monkeypatch.setenv("VIGIE_WAREHOUSE__DATABASE", db)
    monkeypatch.setenv("LYON_PASSWORD", "s3cret")
    runner = CliRunner()
    out = tmp_path / "answers.parquet"
    result = runner.invoke(app, ["sql", f"SELECT * FROM {db}.answers", "--format", "parquet", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert pq.read_table(out).num_rows == 2
    assert result.stdout == "" and "2 row(s) written to" in result.stderr, "data in the file, the message on stderr"
    shown = runner.invoke(app, ["sql", f"SELECT count() AS answers FROM {db}.answers"])
    assert shown.exit_code == 0 and "answers" in shown.output and "2" in shown.output
    query = f"SELECT student_id, occurred_at, correct FROM {db}.answers ORDER BY student_id"
    as_json = runner.invoke(app, ["sql", query, "--format", "json"])  # data on stdout, nothing else
    assert as_json.exit_code == 0, as_json.output
    rows = json.loads(as_json.stdout)
    assert [sorted(r) for r in rows] == [["correct", "occurred_at", "student_id"]] * 2
    as_csv = runner.invoke(app, ["sql", query, "--format", "csv"])
    assert as_csv.exit_code == 0, as_csv.output
    assert [r["student_id"] for r in csv.DictReader(io.StringIO(as_csv.stdout))] == [r["student_id"] for r in rows]
    printed = runner.invoke(app, ["warehouse", "access-sql", "--academy", "lyon", "--password-env", "LYON_PASSWORD"])
    assert printed.exit_code == 0, printed.output
    assert f"GRANT SELECT ON {db}.v_school_at_risk TO vigie_lyon_aggregates;" in printed.output
    for bad in (
        ["sql", "SELECT 1", "--format", "xlsx"],
        ["warehouse", "access-sql", "--academy", "lyon", "--password-env", "LYON_PASSWORD", "--access", "admin"],
        ["sql", "SELECT 1", "--format", "parquet"],  # binary: only into a file
        ["sql", "SELECT 1", "--out", str(tmp_path / "x.csv")],  # a table is for the screen, not silently lost
    ):
        refused = runner.invoke(app, bad)
        assert refused.exit_code == 2, (bad, refused.output)  # a usage error, not a configuration error
    former = runner.invoke(
        app, ["warehouse", "access-sql", "--academy", "lyon", "--password-env", "LYON_PASSWORD", "--level", "analyst"]
    )
    assert former.exit_code == 0 and "--level is deprecated" in former.stderr and "use --access" in former.stderr
    assert "vigie_lyon_analyst" in former.stdout
    assert "s3cret" not in printed.output
