"""`vigie sql` on the real engine, each in a process of its own (as an analyst runs it): attack strings
are refused before the engine, and the engine itself refuses writes once the analyst path opened it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def _env(state: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"VIGIE_STATE_DIR": str(state), "VIGIE_WAREHOUSE__DATABASE": "vigie"})
    env.pop("CLICKHOUSE_URL", None)
    return env


def _vigie(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from vigie.cli import main; main()", *args],
        env=_env(state), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_the_engine_refuses_writes_on_the_analyst_path_even_past_the_text_check(tmp_path) -> None:
    probe = subprocess.run(
        [sys.executable, "-m", "tests.sql_readonly_probe"],
        env=_env(tmp_path), capture_output=True, text=True, timeout=180, check=True,
    )  # fmt: skip
    result = json.loads(probe.stdout.strip().splitlines()[-1])
    assert result["found"] == [{"n": 0}]
    for name, refusal in result["refused"].items():
        assert "READONLY" in refusal or "readonly" in refusal, f"{name}: {refusal}"
    assert result["dead_letters_kept"]


def test_vigie_sql_refuses_attack_strings_and_the_warehouse_is_untouched(tmp_path) -> None:
    outfile = tmp_path / "pwned.txt"
    assert _vigie(tmp_path, "warehouse", "migrate").returncode == 0
    for attack in (
        "SELECT 1; DROP TABLE vigie.dead_letters",
        f"SELECT 1 INTO OUTFILE '{outfile}'",
        "SELECT * FROM file('/etc/hostname', 'LineAsString')",
        "SELECT 1 SETTINGS readonly = 0",
        "SELECT 1 /* ; */ ; TRUNCATE TABLE vigie.answers",
        "SELECT * FROM url('http://127.0.0.1:9/', 'CSV', 'a String')",
        "DROP TABLE vigie.dead_letters",
    ):
        refused = _vigie(tmp_path, "sql", attack)
        assert refused.returncode == 2, (attack, refused.stdout, refused.stderr)
        assert refused.stderr.strip(), attack  # the reason is printed
    assert not outfile.exists()
    kept = _vigie(tmp_path, "sql", "SELECT count() AS letters FROM vigie.dead_letters")
    assert kept.returncode == 0 and "letters" in kept.stdout, kept.stderr
