"""Offline proof: every panel of every dashboard runs on a simulated warehouse and fits its panel.

Each panel's SQL is expanded with the ClickHouse plugin's macros and Grafana's variables
(resolved in chain: academy → school → class, from their own queries), then run on the real
ClickHouse engine holding a simulated cohort.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dashboards_data import TIME_FROM, TIME_TO, dashboard_settings, demo_choice, fill
from vigie.dashboards import levels
from vigie.dashboards.macros import ALL, VariableState
from vigie.dashboards.runner import resolve_variables, run_dashboard, run_panel

pytestmark = pytest.mark.integration

SPECS = levels.all_dashboards()


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory, state_dir: Path) -> Iterator[tuple]:
    from vigie.warehouse.client import connect
    from vigie.warehouse.daily import reconcile_all
    from vigie.warehouse.migrations import migrate

    settings = dashboard_settings(state_dir)
    client = connect(settings)
    migrate(client, settings.warehouse)
    counts = fill(client, settings)
    assert counts["answers"] > 1000
    reconcile_all(client, settings.warehouse.database)  # the nightly job: the platform effect's cells
    yield client, settings, demo_choice(client, settings.warehouse.database)
    client.command(f"DROP DATABASE IF EXISTS {settings.warehouse.database}")


def _is_time(type_name: str) -> bool:
    return type_name.startswith(("DateTime", "Date", "Nullable(DateTime", "Nullable(Date"))


@pytest.mark.parametrize(
    ("spec", "panel"),
    [(s, p) for s in SPECS for p in s.panels],
    ids=lambda x: getattr(x, "uid", getattr(x, "title", "")),
)
def test_panel_returns_rows_that_fit_the_panel(filled, spec, panel) -> None:
    client, settings, choice = filled
    chosen = {name: value for name, value in choice.items() if name in {v.name for v in spec.variables}}
    ctx = resolve_variables(client, spec, settings.warehouse.database, TIME_FROM, TIME_TO, chosen)
    for var in spec.variables:
        assert ctx.variables[var.name].options, f"variable ${var.name} has no option"
    result = run_panel(client, panel, ctx)
    assert "$" not in result.sql, result.sql
    assert result.rows, f"empty panel for the demo cohort: {panel.title}\n{result.sql}"
    assert result.columns == panel.columns
    if panel.is_time_series:
        index = result.columns.index(panel.time_column)
        assert index == 0 and _is_time(result.types[index]), result.types
    if panel.kind == "geomap":
        lat, lon = result.columns.index("latitude"), result.columns.index("longitude")
        assert all(-90 <= row[lat] <= 90 and -180 <= row[lon] <= 180 for row in result.rows)
    if panel.matrix is not None:
        value = result.columns.index(panel.matrix.value)
        assert all(row[value] is None or 0 <= row[value] <= 1 for row in result.rows)


def test_filters_narrow_the_results(filled) -> None:
    client, settings, _ = filled
    spec = levels.academy()
    ctx, everything = run_dashboard(client, spec, settings.warehouse.database, TIME_FROM, TIME_TO)
    schools = ctx.variables["school"].options
    assert len(schools) >= 2
    one_school = dict(ctx.variables)
    one_school["school"] = VariableState((schools[0],), schools, multi=True, include_all=True)
    narrowed = run_panel(client, spec.panels[0], type(ctx)(ctx.time_from, ctx.time_to, ctx.interval_s, one_school))
    assert {row[0] for row in narrowed.rows} == {schools[0]}
    assert len(everything[0].rows) > len(narrowed.rows)
    assert ctx.variables["subject"].values == (ALL,)


def test_class_variable_is_chained_to_the_chosen_school(filled) -> None:
    client, settings, _ = filled
    spec = levels.classroom()
    first = resolve_variables(client, spec, settings.warehouse.database, TIME_FROM, TIME_TO)
    schools = first.variables["school"].options
    classes = {
        school: set(
            resolve_variables(client, spec, settings.warehouse.database, TIME_FROM, TIME_TO, {"school": school})
            .variables["class"]
            .options
        )
        for school in schools
    }
    assert all(classes.values())
    assert not set.intersection(*classes.values())  # each school offers only its own classes


def test_subject_and_level_selections_reach_every_view(filled) -> None:
    client, settings, _ = filled
    spec = levels.academy()
    ctx = resolve_variables(client, spec, settings.warehouse.database, TIME_FROM, TIME_TO)
    subjects, level_options = ctx.variables["subject"].options, ctx.variables["level"].options
    assert "mathematiques" in subjects and len(level_options) >= 2
    chosen = dict(ctx.variables)
    chosen["subject"] = VariableState(("mathematiques",), subjects, multi=True, include_all=True)
    chosen["level"] = VariableState((level_options[0],), level_options, multi=True, include_all=True)
    narrowed = type(ctx)(ctx.time_from, ctx.time_to, ctx.interval_s, chosen)
    matrix = run_panel(client, spec.panels[1], narrowed)
    assert matrix.rows and all("-MA-" in row[0] for row in matrix.rows), matrix.rows
    assert "subject IN ('mathematiques')" in matrix.sql and f"level IN ('{level_options[0]}')" in matrix.sql
