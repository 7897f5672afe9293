"""Configuration a person can act on: one line naming the variable, the value and what is allowed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from vigie.core.errors import ConfigurationError
from vigie.core.settings import default_state_dir, load_settings, unknown_variables

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]


def _vigie(*args: str, env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VIGIE_") and k != "CLICKHOUSE_URL"}
    return subprocess.run(
        [sys.executable, "-c", "from vigie.cli import main; main()", *args],
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("VIGIE_KAFKA__PARTITIONS", "abc", "VIGIE_KAFKA__PARTITIONS='abc': Input should be a valid integer"),
        ("VIGIE_STREAM__MASTERY_THRESHOLD", "1.5", "VIGIE_STREAM__MASTERY_THRESHOLD='1.5': Input should be less"),
        ("VIGIE_LOG_LEVEL", "LOUD", "--log-level='LOUD': one of DEBUG, INFO"),
        ("CLICKHOUSE_URL", "garbage", "CLICKHOUSE_URL=(value hidden): must be http(s)://"),
    ],
)
def test_a_wrong_setting_is_one_line_naming_the_variable(variable: str, value: str, expected: str) -> None:
    result = _vigie("kafka", "status", env={variable: value})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"configuration error: {result.stderr.split(': ', 1)[1].strip()}"]
    assert expected in result.stderr and "Traceback" not in result.stderr


def test_debug_shows_the_traceback() -> None:
    result = _vigie("--debug", "kafka", "status", env={"VIGIE_KAFKA__PARTITIONS": "abc"})
    assert result.returncode == 2 and "Traceback" in result.stderr


def test_a_password_in_a_wrong_url_is_never_echoed() -> None:
    with pytest.raises(ConfigurationError) as raised:
        load_settings(clickhouse_url="ftp://reader:s3cret@host")
    assert "s3cret" not in str(raised.value)


def test_a_misspelled_variable_is_named_with_the_nearest_valid_one() -> None:
    assert unknown_variables({"VIGIE_KAFKA__PARTITONS": "3", "VIGIE_KAFKA__PARTITIONS": "3", "HOME": "/"}) == [
        ("VIGIE_KAFKA__PARTITONS", "VIGIE_KAFKA__PARTITIONS")
    ]
    assert unknown_variables({"VIGIE_PRIVACY__ACADEMY_KEYS__LYON": "k", "VIGIE_LOG_FORMAT": "json"}) == []
    result = _vigie("--version", env={})
    assert result.returncode == 0 and result.stdout.startswith("vigie ")
    warned = _vigie("kafka", "status", env={"VIGIE_KAFKA__PARTITONS": "3", "VIGIE_BROKER__PORT": "1"})
    assert "VIGIE_KAFKA__PARTITONS is ignored (did you mean VIGIE_KAFKA__PARTITIONS?)" in warned.stderr


def test_the_state_folder_does_not_depend_on_the_working_directory(tmp_path: Path) -> None:
    assert default_state_dir() == REPO / "var"  # a source checkout keeps its state in var/
    assert load_settings().state_dir == REPO / "var"
    here = os.getcwd()
    try:
        os.chdir(tmp_path)
        assert load_settings().state_dir == REPO / "var"
        assert load_settings(state_dir="relative").state_dir == tmp_path / "relative"  # resolved once, absolute
    finally:
        os.chdir(here)
