"""Commands that did nothing useful say so with their exit status (issue 16)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vigie.cli import app, report
from vigie.core.errors import UsageError

pytestmark = pytest.mark.unit


def test_xapi_ingest_exits_non_zero_when_every_statement_was_rejected(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"verb": {"id": "http://example.org/unknown"}}) + "\n{not json\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["xapi", "ingest", str(bad), "--platform", "mathix", "--dry-run"])
    assert result.exit_code == 1, result.output
    assert "0 would publish, 2 rejected" in result.output


def test_a_report_of_an_unknown_academy_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["report", "--academy", "atlantis"])
    assert isinstance(result.exception, UsageError), result.output
    assert "not an academy code" in str(result.exception)
    assert report(result.exception) == 2
