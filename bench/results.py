"""``bench/results/latest.json``: the last figures of every benchmark, merged key by key, with the machine.

Each benchmark records its own keys; the machine's core count and load average when it started are kept
beside them, so a figure taken on a busy machine says so; the top-level load average is the busiest start
of the runs the file holds.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

LATEST = Path(__file__).resolve().parent / "results" / "latest.json"


def machine() -> dict[str, Any]:
    one, five, fifteen = os.getloadavg()
    return {"cores": os.cpu_count(), "load_avg_at_start": [round(one, 2), round(five, 2), round(fifteen, 2)]}


def record(benchmark: str, figures: dict[str, Any], started: dict[str, Any], path: Path = LATEST) -> Path:
    """Merge ``figures`` into the results file (``started`` = ``machine()`` read when the benchmark began)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    current = json.loads(path.read_text()) if path.exists() else {}
    current.update(figures)
    current.setdefault("runs", {})[benchmark] = {"at": datetime.now(UTC).isoformat(timespec="seconds")} | started
    # The figures come from runs at different times: the top-level load is the busiest of their starts, so
    # the file never reads as quieter than any of its figures was (each run keeps its own in ``runs``).
    busiest = max(current["runs"].items(), key=lambda run: run[1]["load_avg_at_start"][0])
    current.update(
        machine_cores=started["cores"],
        load_avg_at_start=busiest[1]["load_avg_at_start"],
        load_avg_at_start_of=busiest[0],
    )
    path.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    return path
