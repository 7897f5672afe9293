"""The processors' Python work per answer, in one process: this tree against a git ref, batch by batch.

    .venv/bin/python -m bench.processors [--ref main] [--answers 30000] [--pupils 2000] [--batch 1000]

``bench.stream`` measures the whole worker through a real broker; on a shared machine its CPU figure moves
by 10 % from one run to the next, more than most single changes to a processor. This bench takes the
part a change to ``vigie.stream.mastery`` or ``vigie.stream.signals`` can move: the same answers as
``bench.stream`` (its ``AnswerFactory``, four partitions, fetches of ``--batch`` records), decoded once,
then given to the mastery processor and the signals engine of ``--ref`` (their packages copied out of git
under other names, as ``bench.signals_equivalence`` does) and of the working tree, alternately batch by
batch, each timed by the thread's CPU clock. Both sides then run under the same load, and the ratio is
steady where the absolute figures are not. Every batch's outputs (emitted bytes, signal changes, table
writes) must be identical on both sides: the bench exits 1 otherwise. Only those two packages come from
``--ref``: what they import from the rest of ``vigie`` (the contract, ``vigie.stream.processor``,
``vigie.stream.emit``...) is the tree's on both sides, so a change there does not show in the ratio.

Prints one JSON line: CPU µs per answer of each processor, both sides, and the ratios (tree / ref).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import inspect
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from bench.stream import AnswerFactory
from vigie.core.contract.codec import decode_learning_event
from vigie.core.contract.events import LearningEvent
from vigie.core.topics import partition_of
from vigie.stream.emit import ChangelogTable, Outbox
from vigie.stream.mastery.params import ParameterBook
from vigie.stream.mastery.processor import MasteryProcessor
from vigie.stream.signals.engine import SignalEngine

REPO = Path(__file__).resolve().parents[1]
PARTITIONS = 4


def ref_package(ref: str, source: str, name: str, into: Path) -> None:
    """The package at ``source`` (a folder of the repo) as it is at ``ref``, importable as ``name``."""
    dotted = source.split("/", 1)[1].replace("/", ".")
    listing = subprocess.run(
        ["git", "-C", str(REPO), "ls-tree", "--name-only", f"{ref}:{source}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    package = into / name
    package.mkdir()
    for file in listing:
        data = subprocess.run(
            ["git", "-C", str(REPO), "show", f"{ref}:{source}/{file}"], check=True, capture_output=True
        ).stdout
        if file.endswith(".py"):
            data = data.replace(dotted.encode(), name.encode())
        (package / file).write_bytes(data)


class _Table:
    """What ``ChangelogTable`` needs of a faust table: a local store and a changelog topic name."""

    def __init__(self, name: str) -> None:
        self.data: dict[str, bytes] = {}
        self.value_serializer = "raw"
        self.name = name
        self.changelog_topic = self

    def get_topic_name(self) -> str:
        return self.name


def batches(answers: int, pupils: int, batch: int) -> list[list[LearningEvent]]:
    """``bench.stream``'s answers as the worker's fetches give them: each partition in order, a fetch taking
    up to ``batch / PARTITIONS`` records of each."""
    factory = AnswerFactory(pupils)
    by_partition: dict[int, list[bytes]] = {p: [] for p in range(PARTITIONS)}
    for _ in range(answers):
        key, value, _ = factory.next()
        by_partition[partition_of(key, PARTITIONS)].append(value)
    share, start, out = max(1, batch // PARTITIONS), 0, []
    while any(start < len(values) for values in by_partition.values()):
        out.append(
            [decode_learning_event(v) for values in by_partition.values() for v in values[start : start + share]]
        )
        start += share
    return out


def side(mastery: Any, signals: Any, book: Any) -> tuple[Outbox, Any, Any]:
    outbox = Outbox()
    # The engine journals its memory in the outbox as in the worker (vigie.stream.signals.agents), if it can.
    journal = {"journal": outbox.journal} if "journal" in inspect.signature(signals).parameters else {}
    return (
        outbox,
        mastery(ChangelogTable(_Table("mastery-changelog"), outbox), book, threshold=0.95, model="learner"),
        signals(ChangelogTable(_Table("signals-changelog"), outbox), partitions=PARTITIONS, **journal),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--ref", default="main")
    parser.add_argument("--answers", type=int, default=30_000)
    parser.add_argument("--pupils", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="vigie-bench-processors-"))
    ref_package(args.ref, "stream/vigie/stream/mastery", "vigie_ref_mastery", folder)
    ref_package(args.ref, "stream/vigie/stream/signals", "vigie_ref_signals", folder)
    sys.path.insert(0, str(folder))
    modules: dict[str, ModuleType] = {
        name: importlib.import_module(f"vigie_ref_{name}")
        for name in ("mastery.processor", "mastery.params", "signals.engine")
    }
    sides = {
        "ref": side(
            modules["mastery.processor"].MasteryProcessor,
            modules["signals.engine"].SignalEngine,
            modules["mastery.params"].ParameterBook(),
        ),
        "tree": side(MasteryProcessor, SignalEngine, ParameterBook()),
    }
    work = batches(args.answers, args.pupils, args.batch)
    cpu = {f"{processor}_{name}": 0.0 for processor in ("mastery", "signals") for name in sides}
    gc.freeze()  # as the worker does after its start (vigie.stream.worker.tune_garbage_collector)
    gc.set_threshold(50_000, 20, 20)
    load = os.getloadavg()
    for index, events in enumerate(work):
        outputs = {}
        for name in sorted(sides, reverse=bool(index % 2)):  # each side first every other batch
            outbox, mastery, signals = sides[name]
            started = time.thread_time()
            emitted = [emission.value() for emission in mastery.process(events)]
            cpu[f"mastery_{name}"] += time.thread_time() - started
            started = time.thread_time()
            changes = [change.model_dump_json() for change in signals.process(events)]
            cpu[f"signals_{name}"] += time.thread_time() - started
            outputs[name] = (emitted, changes, outbox.drain())
        if outputs["ref"] != outputs["tree"]:
            print(json.dumps({"error": f"batch {index}: the outputs of {args.ref} and the tree differ"}))
            sys.exit(1)
    per_answer = {key: round(1e6 * seconds / args.answers, 1) for key, seconds in cpu.items()}
    ratios = {p: round(cpu[f"{p}_tree"] / cpu[f"{p}_ref"], 3) for p in ("mastery", "signals")}
    figures = {"ref": args.ref, "answers": args.answers, "pupils": args.pupils, "load_avg": load}
    print(json.dumps(figures | {"cpu_us_per_answer": per_answer, "tree_to_ref": ratios, "outputs_identical": True}))


if __name__ == "__main__":
    main()
