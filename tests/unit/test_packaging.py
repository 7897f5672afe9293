"""A platform installs the contract and the SDK without faust or the ClickHouse engine."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import requires

import pytest

pytestmark = pytest.mark.unit


def test_base_install_does_not_require_faust_or_the_clickhouse_engine() -> None:
    base = [r for r in requires("vigie") or [] if "extra ==" not in r]
    names = " ".join(base).lower()
    for heavy in ("faust", "aiokafka", "chdb", "clickhouse", "grafana"):
        assert heavy not in names, base


def test_importing_the_sdk_and_contract_loads_no_heavy_module() -> None:
    code = (
        "import sys, vigie.core.contract, vigie.producers.sdk, vigie.producers.pseudonym, vigie.producers.builder\n"
        "import vigie.producers.xapi, vigie.producers.schema\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in {'faust','aiokafka','chdb','clickhouse_connect'}]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
