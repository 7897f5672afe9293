"""The signals engine of this tree against the one of a git ref, on the same streams: every output must match.

    .venv/bin/python -m bench.signals_equivalence [--ref main] [--days 120] [--students 20]

A rewrite for speed must not change a signal: this replays streams through ``SignalEngine`` of ``--ref``
(its ``stream/vigie/stream/signals`` copied out of git under another package name) and of the working
tree, with the same batches and event-time ticks, and compares every emitted ``SignalChanged`` (the
model and its encoded bytes), the daily feature and risk logs, and every pupil's final state (both
decoded to the former dict value). The streams: the simulator (drop-outs, noisy weeks, two academies),
the same with late events, redelivered batches and erasures mixed in, and ``bench.signals``' cohort.
Each is run in several batch sizes, and once as an upgrade in place: the ref's engine writes the states
of the first half (as its table held them), the tree's engine reads them and goes on.

Prints one line per case and exits 1 on the first difference (with the first differing change).
"""

from __future__ import annotations

import argparse
import copy
import importlib
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson

from vigie.core.contract.events import ErasureRequested, LearningEvent, SignalChanged
from vigie.core.topics import SIGNALS
from vigie.stream.processor import Emission
from vigie.stream.signals import engine as new_engine

REPO = Path(__file__).resolve().parents[1]
SOURCE = "stream/vigie/stream/signals"
REF_PACKAGE = "vigie_ref_signals"


def ref_engine_module(ref: str, into: Path) -> ModuleType:
    """``vigie.stream.signals.engine`` as it is at ``ref``, importable as ``vigie_ref_signals.engine``."""
    listing = subprocess.run(
        ["git", "-C", str(REPO), "ls-tree", "--name-only", f"{ref}:{SOURCE}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    package = into / REF_PACKAGE
    package.mkdir()
    for name in listing:
        blob = subprocess.run(
            ["git", "-C", str(REPO), "show", f"{ref}:{SOURCE}/{name}"], check=True, capture_output=True
        )
        data = blob.stdout
        if name.endswith(".py"):
            data = data.replace(b"vigie.stream.signals", REF_PACKAGE.encode())
        (package / name).write_bytes(data)
    sys.path.insert(0, str(into))
    return importlib.import_module(f"{REF_PACKAGE}.engine")


def simulated(days: int, students: int, seed: int) -> list[LearningEvent]:
    from datetime import date

    from vigie.core.settings import PrivacySettings
    from vigie.producers.simulator import Simulation, SimulationConfig

    config = SimulationConfig(
        academies=("lyon", "creteil"), students_per_class=students, start=date(2025, 9, 1), days=days, seed=seed
    )
    return list(Simulation(config, PrivacySettings()).events())


def stream_answers(n: int) -> list[LearningEvent]:
    """The answers ``bench.stream`` pre-loads (2000 pupils in turn, a second apart), as the worker decodes them."""
    from bench.stream import AnswerFactory
    from vigie.core.contract.codec import decode_learning_event

    factory = AnswerFactory(2000)
    return [decode_learning_event(factory.next()[1]) for _ in range(n)]


def perturbed(events: list[LearningEvent], seed: int) -> list[LearningEvent]:
    """Late events (2 % arrive up to three days late), a few erasures, in arrival order."""
    rng = random.Random(seed)
    arrivals: list[tuple[Any, int, LearningEvent]] = []
    for n, event in enumerate(events):
        late = timedelta(hours=rng.randrange(1, 72)) if rng.random() < 0.02 else timedelta(0)
        arrivals.append((event.occurred_at + late, n, event))
    pupils = sorted({e.student_id for e in events})
    for k, pupil in enumerate(rng.sample(pupils, max(1, len(pupils) // 50))):
        moment = events[rng.randrange(len(events))].occurred_at
        erasure = ErasureRequested(event_id=uuid.uuid4(), occurred_at=moment, academy="lyon", student_id=pupil)
        arrivals.append((moment, len(events) + k, erasure))
    arrivals.sort(key=lambda a: (a[0], a[1]))
    return [event for _, _, event in arrivals]


def run(
    engine: Any, events: list[LearningEvent], batch: int, redeliver: float = 0.0, seed: int = 0
) -> list[SignalChanged]:
    """Batches and a tick after each, as ``vigie evaluate signals``; some batches delivered twice."""
    rng = random.Random(seed)
    out: list[SignalChanged] = []
    for start in range(0, len(events), batch):
        chunk = events[start : start + batch]
        out += engine.process(chunk)
        if redeliver and rng.random() < redeliver:
            out += engine.process(chunk[rng.randrange(len(chunk)) :])
        out += engine.tick()
    return out


def legacy_store(engine: Any) -> dict[str, Any]:
    """Every pupil's state as the former dict value (the ref's engine may store it as such)."""
    decode: Callable[[Any], Any] = getattr(sys.modules[type(engine).__module__], "legacy_value", lambda value: value)
    return {pupil: decode(value) for pupil, value in engine.store.items()}


def emitted(changes: Iterable[SignalChanged]) -> list[bytes]:
    return [Emission(SIGNALS, c.student_id, c).value() for c in changes]


def compare(name: str, ref: Any, new: Any, ref_out: list[SignalChanged], new_out: list[Any]) -> None:
    if len(ref_out) != len(new_out) or ref_out != new_out:
        first = next((i for i, (a, b) in enumerate(zip(ref_out, new_out, strict=False)) if a != b), None)
        print(f"{name}: {len(ref_out)} changes (ref) against {len(new_out)}; first difference at {first}")
        if first is not None:
            print(" ref:", ref_out[first])
            print(" new:", new_out[first])
        sys.exit(1)
    if emitted(ref_out) != emitted(new_out):
        sys.exit(f"{name}: the same changes encode to different bytes")
    if legacy_store(ref) != legacy_store(new):
        differing = [p for p in ref.store if legacy_store(ref).get(p) != legacy_store(new).get(p)]
        sys.exit(f"{name}: final states differ for {len(differing)} pupils, e.g. {differing[:1]}")
    if (ref.feature_log, ref.risk_log) != (new.feature_log, new.risk_log):
        sys.exit(f"{name}: the daily feature or risk logs differ")
    if (ref.events, ref.duplicates, ref.watermarks, ref.scanned) != (
        new.events,
        new.duplicates,
        new.watermarks,
        new.scanned,
    ):
        sys.exit(f"{name}: counters or watermarks differ")


def engines(ref_module: ModuleType, partitions: int) -> tuple[Any, Any]:
    ref, new = ref_module.SignalEngine({}, partitions=partitions), new_engine.SignalEngine({}, partitions=partitions)
    for engine in (ref, new):
        engine.feature_log, engine.risk_log = [], []
    return ref, new


def case(
    name: str,
    ref_module: ModuleType,
    events: list[LearningEvent],
    batch: int,
    redeliver: float = 0.0,
    partitions: int = 6,
) -> None:
    ref, new = engines(ref_module, partitions)
    started = time.perf_counter()
    ref_out = run(ref, events, batch, redeliver)
    ref_s = time.perf_counter() - started
    started = time.perf_counter()
    new_out = run(new, events, batch, redeliver)
    new_s = time.perf_counter() - started
    compare(name, ref, new, ref_out, new_out)
    print(
        f"{name:<44} batch {batch:>4}: {len(events):>7} events, {len(new_out):>6} changes identical; "
        f"{1e6 * ref_s / len(events):6.1f} -> {1e6 * new_s / len(events):5.1f} µs/event"
    )


def upgrade(name: str, ref_module: ModuleType, events: list[LearningEvent], batch: int) -> None:
    """The ref's engine runs the first half; the tree's engine takes over its states (as the changelog held
    them: the JSON of format 1, or the bytes of format 2) and runs the second half: the same outputs as the
    ref's engine all along."""
    ref, new = engines(ref_module, partitions=6)
    half = len(events) // 2 // batch * batch
    ref_out = run(ref, events[:half], batch)
    new.store = {  # the raw changelog records
        pupil: value if isinstance(value, bytes) else orjson.dumps(value) for pupil, value in ref.store.items()
    }
    # in memory, per worker (a restarted worker starts them empty): copied, to compare the table's states only
    new.items._stats, new.classes._classes = copy.deepcopy(ref.items._stats), copy.deepcopy(ref.classes._classes)
    new.watermarks, new.scanned = dict(ref.watermarks), dict(ref.scanned)
    new.events, new.duplicates = ref.events, ref.duplicates
    new.feature_log, new.risk_log = list(ref.feature_log), list(ref.risk_log)
    new_out = ref_out + run(new, events[half:], batch)
    ref_out += run(ref, events[half:], batch)
    compare(name, ref, new, ref_out, new_out)
    print(f"{name:<44} batch {batch:>4}: {len(events):>7} events, {len(new_out):>6} changes identical")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", default="main", help="git ref of the engine to compare with")
    parser.add_argument("--days", type=int, default=120, help="simulated calendar days")
    parser.add_argument("--students", type=int, default=20, help="pupils per simulated class")
    args = parser.parse_args()

    from bench.signals import cohort

    with tempfile.TemporaryDirectory() as folder:
        ref_module = ref_engine_module(args.ref, Path(folder))
        plain = simulated(args.days, args.students, seed=7)
        mixed = perturbed(plain, seed=3)
        bench_cohort = cohort(200, 60, 10, seed=1)
        for batch in (1, 37, 500):
            events = plain[:20_000] if batch == 1 else plain
            case("simulator", ref_module, events, batch)
        for batch in (13, 500):
            case("simulator, late + erasures + redeliveries", ref_module, mixed, batch, redeliver=0.2)
        case("bench.signals cohort", ref_module, bench_cohort, 1000)
        case("bench.stream answers (2000 pupils)", ref_module, stream_answers(50_000), 1000, partitions=4)
        upgrade("upgrade in place (ref states, then this tree)", ref_module, mixed, 500)
    print(f"identical to {args.ref}")


if __name__ == "__main__":
    main()
