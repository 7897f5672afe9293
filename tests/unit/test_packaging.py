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


def test_the_worker_image_copies_every_folder_the_wheel_is_built_from() -> None:
    """``pip install .`` in infra/Dockerfile builds the wheel from what the image copied: a part of the
    ``vigie`` namespace left out there builds an image whose workers cannot import it."""
    import tomllib

    from tests.conftest import REPO

    wheel = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["hatch"]["build"]["targets"]["wheel"]
    copied = set()
    for line in (REPO / "infra" / "Dockerfile").read_text().splitlines():
        words = line.split()
        if words[:1] == ["COPY"] and not any(w.startswith("--from") for w in words):
            copied.update(w.rstrip("/") for w in words[1:-1])
    missing = [path for path in wheel["only-include"] if not any(path == c or path.startswith(c + "/") for c in copied)]
    assert not missing, f"infra/Dockerfile does not COPY {missing}"
    assert {"pyproject.toml", "README.md"} <= copied
