"""The offline HTML report renders its charts in a real headless browser, with no network.

Needs Debian's `chromium` (`apt-get install -y chromium`); the test installs it when missing and
skips only when it is absent and cannot be installed. The screenshot is kept under test-artifacts/.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.dashboards_data import TIME_FROM, TIME_TO, dashboard_settings, fill
from vigie.dashboards.report import write_report

pytestmark = pytest.mark.integration

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = REPO / "test-artifacts"


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if shutil.which("apt-get"):
        for command in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "chromium"]):
            subprocess.run(command, capture_output=True, timeout=900)
        found = shutil.which("chromium")
    if not found:
        pytest.skip("chromium is not installed and `apt-get install -y chromium` failed")
    return found


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory, state_dir: Path) -> Iterator[Path]:
    from vigie.warehouse.client import connect
    from vigie.warehouse.migrations import migrate

    settings = dashboard_settings(state_dir)
    client = connect(settings)
    migrate(client, settings.warehouse)
    fill(client, settings)
    out = tmp_path_factory.mktemp("report") / "report.html"
    write_report(settings, client, "lyon", out, TIME_FROM, TIME_TO)
    yield out
    client.command(f"DROP DATABASE IF EXISTS {settings.warehouse.database}")


def test_report_is_self_contained(report: Path) -> None:
    html = report.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), "the report must fetch nothing"
    assert "<link" not in html and "@import" not in html
    assert html.count('class="vigie-chart"') >= 8
    for kind in ("matrix", "timeseries", "barchart", "stat"):
        assert f'data-kind="{kind}"' in html, kind
    assert "École / établissement" in html
    follow = re.findall(r'data-panel="Élèves à suivre \(risque de décrochage[^"]*" data-rows="(\d+)"', html)
    assert follow and sum(map(int, follow)) > 0, "the k-safe view lists pupils to follow with their reasons"


def test_report_renders_in_headless_chromium(report: Path, tmp_path: Path) -> None:
    chromium = _chromium()
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "report.png"
    screenshot.unlink(missing_ok=True)
    common = [chromium, *CHROMIUM_FLAGS, "--window-size=1400,2200"]
    dom = subprocess.run(
        [
            *common,
            f"--user-data-dir={tmp_path / 'profile-dom'}",
            "--virtual-time-budget=5000",
            "--dump-dom",
            report.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    body = re.search(r"<body([^>]*)>", dom.stdout)
    assert body, dom.stdout[:500]
    rendered = int(re.search(r'data-charts-rendered="(\d+)"', body[1])[1])
    total = int(re.search(r'data-charts-total="(\d+)"', body[1])[1])
    assert total >= 8 and rendered == total, (rendered, total)  # every SVG chart has a non-empty box
    assert dom.stdout.count('<rect class="cell"') > 0 and "<polyline" in dom.stdout

    shot = subprocess.run(
        [*common, f"--user-data-dir={tmp_path / 'profile-shot'}", f"--screenshot={screenshot}", report.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shot.returncode == 0 and screenshot.is_file(), shot.stderr[-2000:]
    assert screenshot.stat().st_size > 20_000  # a blank page is a few KB


def test_a_report_with_no_answer_in_its_period_is_an_error_not_an_empty_page(
    settings, warehouse, monkeypatch, tmp_path
):
    from typer.testing import CliRunner

    from vigie.cli import app, report
    from vigie.core.errors import PermanentError

    monkeypatch.setenv("VIGIE_STATE_DIR", str(settings.state_dir))  # the engine this process already opened
    monkeypatch.setenv("VIGIE_WAREHOUSE__DATABASE", settings.warehouse.database)  # a fresh, empty database
    out = tmp_path / "report.html"
    result = CliRunner().invoke(app, ["report", "--academy", "lyon", "--out", str(out)])
    assert isinstance(result.exception, PermanentError), result.output
    assert "no answer of academy lyon" in str(result.exception) and report(result.exception) == 1
    assert not out.exists()
