"""``python -m bench``: list the benchmarks, or run them all with their defaults (``python -m bench all``).

Each benchmark is a module of this package that prints its figures; see its docstring for options.
"""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

#: Benchmarks in the order `all` runs them (the warehouse one loads 10M rows: it comes last).
ORDER = ("simulator", "sdk", "mastery", "signals", "stream", "warehouse")


def available() -> list[str]:
    found = {m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if not m.name.startswith("_")}
    # a data generator, the default model's regeneration, and a check of the signals engine against a git ref
    found -= {"mastery_data", "learner_default", "signals_equivalence"}
    return [name for name in ORDER if name in found] + sorted(found - set(ORDER))


def main(argv: list[str]) -> int:
    names = available()
    if argv[:1] != ["all"]:
        for name in names:
            doc = (importlib.import_module(f"bench.{name}").__doc__ or "").strip().splitlines()[0]
            print(f"python -m bench.{name:<10} {doc}")
        print("python -m bench all        run every benchmark above with its defaults")
        return 0
    failed = [name for name in names if subprocess.call([sys.executable, "-m", f"bench.{name}"]) != 0]
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
