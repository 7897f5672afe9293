"""Dashboards as code: the JSON is what the SDK's own model reads back, and what is committed."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO
from vigie.dashboards import grafana, levels, provisioning
from vigie.dashboards.clickhouse_query import PLUGIN_ID, ClickHouseQuery, Format

pytestmark = pytest.mark.unit

SPECS = levels.all_dashboards()


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.uid)
def test_dashboard_json_survives_the_sdk_model_roundtrip(spec) -> None:
    document = grafana.build(spec)
    assert grafana.roundtrip(document) == document
    # The SDK's decoder gives typed ClickHouse targets back, not its untyped bag.
    model = grafana.dashboard_model.Dashboard.from_json(document)
    targets = [t for panel in model.panels for t in panel.targets]
    assert targets and all(isinstance(t, ClickHouseQuery) for t in targets)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.uid)
def test_every_panel_has_one_sql_target_of_the_right_format(spec) -> None:
    document = grafana.build(spec)
    assert len(document["panels"]) == len(spec.panels)
    for panel, panel_spec in zip(document["panels"], spec.panels, strict=True):
        (target,) = panel["targets"]
        assert target["datasource"] == {"type": PLUGIN_ID, "uid": "vigie-clickhouse"}
        assert target["editorType"] == "sql" and target["rawSql"] == panel_spec.sql
        assert target["format"] == (Format.TIME_SERIES if panel_spec.kind == "timeseries" else Format.TABLE)
        assert panel["gridPos"]["x"] >= 0 and panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24


def test_variables_are_chained_academy_school_class() -> None:
    names = {spec.uid: [v["name"] for v in grafana.build(spec)["templating"]["list"]] for spec in SPECS}
    assert names[levels.CLASS_UID][:4] == ["database", "academy", "school", "class"]
    variables = {v.name: v for v in levels.classroom().variables}
    assert "'$academy'" in variables["school"].sql
    assert "'$academy'" in variables["class"].sql and "'$school'" in variables["class"].sql


def test_aggregate_levels_read_only_the_suppressed_views() -> None:
    for spec in SPECS:
        if not spec.aggregate:
            continue
        for title, sql in [(p.title, p.sql) for p in spec.panels] + [(v.name, v.sql) for v in spec.variables]:
            tables = set(_tables(sql))
            assert tables and all(t.startswith("v_") for t in tables), (spec.uid, title, tables)
            assert not re.search(r"\bFROM\s+(?!\$database\.|\()", sql), (spec.uid, title)  # no unqualified table


def _tables(sql: str) -> list[str]:
    return re.findall(r"\$database\.(\w+)", sql)


def test_committed_json_and_provisioning_are_up_to_date(tmp_path: Path) -> None:
    written = grafana.write_all(SPECS, tmp_path / "grafana") + provisioning.write(tmp_path / "provisioning")
    for path in written:
        committed = REPO / "dashboards" / path.relative_to(tmp_path)
        assert committed.read_text(encoding="utf-8") == path.read_text(encoding="utf-8"), (
            f"{committed} is stale: run `vigie dashboards build`"
        )


def test_provisioning_declares_the_clickhouse_source_and_a_folder_per_level() -> None:
    sources = yaml.safe_load((REPO / "dashboards/provisioning/datasources/vigie.yaml").read_text())
    (source,) = sources["datasources"]
    assert source["type"] == PLUGIN_ID and source["uid"] == "vigie-clickhouse"
    providers = yaml.safe_load((REPO / "dashboards/provisioning/dashboards/vigie.yaml").read_text())["providers"]
    assert {p["folderUid"] for p in providers} == {uid for uid, _ in grafana.FOLDERS.values()}
    assert len({p["options"]["path"] for p in providers}) == len(grafana.FOLDERS)


def test_compose_file_wires_kafka_clickhouse_grafana_and_the_workers() -> None:
    compose_path = REPO / "infra" / "compose.yaml"
    compose = yaml.safe_load(compose_path.read_text())
    services = compose["services"]
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["clickhouse"]["image"].startswith("clickhouse/clickhouse-server:")
    grafana_service = services["grafana"]
    assert grafana_service["image"].startswith("grafana/grafana:")
    assert grafana_service["environment"]["GF_INSTALL_PLUGINS"] == PLUGIN_ID
    mounts = {v.split(":")[1]: v.split(":")[0] for v in grafana_service["volumes"] if v.startswith("..")}
    assert mounts["/etc/grafana/provisioning"] == "../dashboards/provisioning"
    for level, (_uid, _title) in grafana.FOLDERS.items():
        path = provisioning.CONTAINER_DASHBOARDS + f"/{level}"
        mounted = [src for dst, src in mounts.items() if dst.startswith(path + "/")]
        assert mounted, f"nothing mounted in {path}"
        assert all((compose_path.parent / src).resolve().is_file() for src in mounted)
    for name, argv in (("stream-worker", ["stream", "worker"]), ("sink", ["sink"])):
        worker = services[name]
        assert worker["build"]["dockerfile"] == "infra/Dockerfile"
        assert (compose_path.parent / worker["build"]["context"] / worker["build"]["dockerfile"]).is_file()
        assert worker["command"][: len(argv)] == argv
        assert worker["environment"]["VIGIE_KAFKA__BOOTSTRAP_SERVERS"] == "kafka:9092"
        assert worker["environment"]["CLICKHOUSE_URL"].startswith("http://")
    assert 'ENTRYPOINT ["vigie"]' in (REPO / "infra" / "Dockerfile").read_text()


def test_compose_file_passes_docker_compose_config_when_available() -> None:
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        command = ["docker", "compose"]
    elif shutil.which("docker-compose"):
        command = ["docker-compose"]
    else:
        pytest.skip("neither the `docker compose` plugin nor docker-compose is installed")
    result = subprocess.run(
        [*command, "-f", str(REPO / "infra" / "compose.yaml"), "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_drill_down_links_reach_existing_dashboards_with_known_variables_and_fields() -> None:
    uids = {spec.uid for spec in SPECS}
    drilled = 0
    for spec in SPECS:
        document = grafana.build(spec)
        names = {v["name"] for v in document["templating"]["list"]}
        for link in document.get("links", []):
            assert {tag.removeprefix("uid:") for tag in link["tags"]} <= uids
        for panel, panel_spec in zip(document["panels"], spec.panels, strict=True):
            for link in panel.get("fieldConfig", {}).get("defaults", {}).get("links") or []:
                drilled += 1
                assert link["url"].split("?")[0].removeprefix("/d/") in uids
                assert set(re.findall(r"__data\.fields\.(\w+)", link["url"])) <= set(panel_spec.columns)
                assert set(re.findall(r"\$\{(\w+):queryparam\}", link["url"])) <= names
    assert drilled >= 3  # national -> academy -> school -> class


def test_build_command_writes_the_json_and_provisioning(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from vigie.cli import app

    result = CliRunner().invoke(
        app, ["dashboards", "build", "--out", str(tmp_path / "g"), "--provisioning", str(tmp_path / "p")]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == "" and "file(s) written" in result.stderr, "the data is the files; the list a message"
    expected = [f"{s.uid}.json" for s in SPECS] + ["vigie-operations.json"]  # + the Prometheus one
    assert sorted(p.name for p in (tmp_path / "g").iterdir()) == sorted(expected)
    assert (tmp_path / "p" / "datasources" / "vigie.yaml").is_file()


def test_build_writes_under_the_working_directory_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    import vigie.dashboards
    from vigie.cli import app

    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["dashboards", "build"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "dashboards" / "grafana" / f"{SPECS[0].uid}.json").is_file()
    assert (tmp_path / "dashboards" / "provisioning" / "datasources" / "vigie.yaml").is_file()
    package = Path(next(iter(vigie.dashboards.__path__))).resolve()
    assert not any(Path(p).resolve().is_relative_to(package) for p in result.output.split())
