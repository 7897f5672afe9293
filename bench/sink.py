"""Sink throughput per table: message bytes → stored rows through the sink's own path, dedup included.

``python -m bench.sink [--rows 200000] [--history 1000000] [--batch 100000]``

For each table (answers, session events, mastery updates, signals), ``--rows`` valid contract events are encoded
once, then fed to ``vigie.warehouse.sink.Sink`` exactly as its poll loop does (``_accept_batch`` per poll of
``--poll`` records: decode, route, key check, buffer; a flush every ``--batch`` rows, by default the sink's
``batch_rows``: duplicate lookup in ``event_ids``, insert, materialized views, commit), on an embedded warehouse
already holding ``--history`` answers (bulk-generated in the engine, so the lookup runs against a real index), after
tuning the garbage collector as ``Sink.run`` does. Kafka's fetch is not in the figure: bench.stream measures what
the consumer alone reaches. A second pass redelivers the same messages: every row must be recognised and skipped.
Prints rows/s per table, first pass and redelivery, with the process's CPU µs per row (the engine runs in the
process: its threads count; on a shared machine CPU time varies less than wall time), and records
``sink_rows_per_s`` (the slowest table, first pass) and each table's figure in ``bench/results/latest.json``.

Profile: ``py-spy record -o sink.svg -- .venv/bin/python -m bench.sink``.
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from vigie.core.contract.codec import encode
from vigie.core.contract.events import (
    AnswerSubmitted,
    MasteryUpdated,
    SessionEnded,
    SessionStarted,
    SignalChanged,
    SignalReason,
    make_event_id,
)
from vigie.core.contract.taxonomy import skills
from vigie.core.settings import SinkSettings, VigieSettings
from vigie.core.topics import LEARNING_EVENTS, MASTERY_UPDATES, SIGNALS, TopicSpec

START = datetime(2026, 10, 5, 8, 0, tzinfo=UTC)


class _NoCommit:
    """Stands for the Kafka consumer at the end of a flush (the offsets' commit is Kafka's cost)."""

    def commit(self, offsets: object = None) -> None:
        return None

    def assignment(self) -> set[object]:
        return set()


def _pupils(n: int) -> list[dict[str, str]]:
    out = []
    for p in range(n):
        klass = p // 25
        out.append(
            {
                "academy": ("lyon", "grenoble", "paris")[klass % 3],
                "school_uai": f"{10 + klass % 3:02d}{klass // 6:05d}X",
                "class_id": uuid.uuid5(uuid.NAMESPACE_OID, f"class-{klass}").hex,
                "student_id": uuid.uuid5(uuid.NAMESPACE_OID, f"pupil-{p}").hex,
                "level": "CM1",
            }
        )
    return out


def answers(rng: random.Random, pupils: list[dict[str, str]], n: int) -> list[tuple[bytes, bytes]]:
    codes = sorted(k for k, s in skills().items() if s.cycle == "cycle3" and s.subject == "mathematiques")
    out = []
    for i in range(n):
        pupil = pupils[rng.randrange(len(pupils))]
        source = f"bench-{i}"
        event = AnswerSubmitted(
            event_id=make_event_id("fondamentaux", source),
            source_event_id=source,
            platform="fondamentaux",
            occurred_at=START + timedelta(seconds=i),
            session_id=f"s-{i // 20}",
            subject="mathematiques",
            skill_code=codes[i % len(codes)],
            item_id=f"item-{rng.randrange(2000)}",
            correct=rng.random() < 0.65,
            score=1.0,
            response_time_ms=rng.randrange(1000, 60_000),
            attempt=1,
            hints_used=0,
            **pupil,
        )
        out.append((encode(event), pupil["student_id"].encode()))
    return out


def sessions(rng: random.Random, pupils: list[dict[str, str]], n: int) -> list[tuple[bytes, bytes]]:
    out = []
    for i in range(n):
        pupil = pupils[rng.randrange(len(pupils))]
        source = f"bench-session-{i}"
        common = {
            "event_id": make_event_id("fondamentaux", source),
            "source_event_id": source,
            "platform": "fondamentaux",
            "occurred_at": START + timedelta(seconds=i),
            "session_id": f"s-{i}",
            **pupil,
        }
        event = SessionEnded(outcome="completed", answers_count=12, **common) if i % 2 else SessionStarted(**common)
        out.append((encode(event), pupil["student_id"].encode()))
    return out


def mastery(rng: random.Random, pupils: list[dict[str, str]], n: int) -> list[tuple[bytes, bytes]]:
    out = []
    for i in range(n):
        pupil = pupils[rng.randrange(len(pupils))]
        p = rng.random()
        event = MasteryUpdated(
            event_id=uuid.uuid4(),
            answer_event_id=uuid.uuid4(),
            occurred_at=START + timedelta(seconds=i),
            subject="mathematiques",
            skill_code="C3-MA-NOM-01",
            correct=True,
            p_before=p * 0.9,
            p_after=p,
            attempts=1 + i % 50,
            mastered=p > 0.95,
            params_version=1,
            **pupil,
        )
        out.append((encode(event), pupil["student_id"].encode()))
    return out


def signals(rng: random.Random, pupils: list[dict[str, str]], n: int) -> list[tuple[bytes, bytes]]:
    out = []
    for i in range(n):
        pupil = pupils[rng.randrange(len(pupils))]
        at = START + timedelta(seconds=i)
        event = SignalChanged(
            event_id=uuid.uuid4(),
            signal_id=uuid.uuid4(),
            status="raised",
            signal_type="inactivity",
            severity="high",
            occurred_at=at,
            first_seen_at=at,
            reasons=(
                SignalReason(code="days_inactive", text="Aucune activité depuis 12 jours", value=12, threshold=7),
            ),
            **pupil,
        )
        out.append((encode(event), pupil["student_id"].encode()))
    return out


MAKERS: dict[str, tuple[TopicSpec, Callable[[random.Random, list[dict[str, str]], int], list[tuple[bytes, bytes]]]]] = {
    "answers": (LEARNING_EVENTS, answers),
    "session_events": (LEARNING_EVENTS, sessions),
    "mastery_updates": (MASTERY_UPDATES, mastery),
    "signals": (SIGNALS, signals),
}


@dataclass(frozen=True)
class _Record:
    """What the sink reads of a Kafka record."""

    offset: int
    value: bytes
    key: bytes


def records_of(messages: list[tuple[bytes, bytes]]) -> list[_Record]:
    return [_Record(offset, value, key) for offset, (value, key) in enumerate(messages)]


def run_sink(sink: Any, topic: str, records: list[_Record], batch: int, poll: int = 5000) -> float:
    """Seconds to take every record through the sink: accept each poll's records, flush every ``batch``
    rows as the poll loop does (the batch written in the background while the next polls are accepted, one
    batch in flight at most), then wait for the last write."""
    consumer = _NoCommit()
    pipelined = hasattr(sink, "_start_flush")  # an older sink flushes in line
    started = time.perf_counter()
    for start in range(0, len(records), poll):
        accept(sink, topic, records[start : start + poll])
        if sum(len(b.rows) for b in sink.buffers.values()) >= batch:
            if pipelined:
                sink._finish_flush(consumer)
                sink._start_flush()
            else:
                sink._flush(consumer)
    if pipelined:
        sink._finish_flush(consumer)
    if sink.buffers:
        sink._flush(consumer)
    elapsed = time.perf_counter() - started
    if pipelined:
        sink.close()
    return elapsed


def accept(sink: Any, topic: str, records: list[_Record]) -> None:
    """One poll's records into the sink, as its poll loop hands them (record by record before the batch path:
    the same bench then measures an older sink too)."""
    if hasattr(sink, "_accept_batch"):
        sink._accept_batch(topic, 0, records)
    else:
        for record in records:
            sink._accept(topic, 0, record.offset, record.value, record.key)


def main(argv: list[str] | None = None) -> None:
    from bench.results import machine, record
    from bench.warehouse_data import Shape, generate
    from vigie.warehouse.client import connect
    from vigie.warehouse.migrations import migrate
    from vigie.warehouse.sink import Sink, tune_garbage_collector

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="events per table")
    parser.add_argument("--history", type=int, default=1_000_000, help="answers already stored (bulk-generated)")
    parser.add_argument(
        "--batch", type=int, default=SinkSettings().batch_rows, help="rows per flush (the sink's batch_rows)"
    )
    parser.add_argument("--poll", type=int, default=5000, help="records per poll (the sink's max_poll_records)")
    parser.add_argument("--tables", default=",".join(MAKERS), help="comma-separated subset")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args(argv)
    started_on = machine()
    print(f"load average at start: {started_on['load_avg_at_start']} ({started_on['cores']} cores)")
    state = Path(tempfile.mkdtemp(prefix="vigie-bench-sink-"))
    try:
        settings = VigieSettings(state_dir=state, warehouse={"database": "bench"}, sink={"batch_rows": args.batch})
        client = connect(settings)
        migrate(client, settings.warehouse)
        if args.history:
            generate(client, "bench", Shape(), args.history, 2_000_000, verbose=False)
            print(f"history: {args.history:,} answers (and their mastery updates, sessions) in the engine")
        tune_garbage_collector()  # as Sink.run does before its poll loop
        rng = random.Random(7)
        pupils = _pupils(5_000)
        figures: dict[str, Any] = {}
        print(
            f"{'table':18} {'rows':>9} {'encode s':>9} {'sink rows/s':>12} {'cpu µs/row':>11}"
            f" {'redelivered rows/s':>19} {'cpu µs/row':>11}  stored"
        )
        for name in args.tables.split(","):
            spec, make = MAKERS[name]
            t0 = time.perf_counter()
            messages = records_of(make(rng, pupils, args.rows))
            encoding = time.perf_counter() - t0
            topic = spec.name(settings.kafka.topic_prefix)
            sink = Sink(settings, client)
            cpu = time.process_time()
            first = run_sink(sink, topic, messages, args.batch, args.poll)
            first_cpu = (time.process_time() - cpu) / args.rows * 1e6
            again = Sink(settings, client)
            cpu = time.process_time()
            second = run_sink(again, topic, messages, args.batch, args.poll)
            second_cpu = (time.process_time() - cpu) / args.rows * 1e6
            stored = sink.stats.inserted.get(name, 0)
            skipped = again.stats.duplicates_skipped
            ok = stored == args.rows and skipped == args.rows and not again.stats.inserted.get(name)
            print(
                f"{name:18} {args.rows:>9,} {encoding:>9.1f} {args.rows / first:>12,.0f} {first_cpu:>11.1f}"
                f" {args.rows / second:>19,.0f} {second_cpu:>11.1f}"
                f"  {stored:,} stored, {skipped:,} skipped on redelivery{'' if ok else '  <-- WRONG'}"
            )
            figures[f"sink_{name}_rows_per_s"] = round(args.rows / first)
            figures[f"sink_{name}_redelivered_rows_per_s"] = round(args.rows / second)
            figures[f"sink_{name}_cpu_us_per_row"] = round(first_cpu, 1)
        slowest = min(v for k, v in figures.items() if k.endswith("_rows_per_s") and "redelivered" not in k)
        figures["sink_rows_per_s"] = slowest
        print(f"sink_rows_per_s = {slowest:,} (slowest table, first pass)")
        if not args.no_record:
            print(f"recorded in {record('sink', figures, started_on)}")
    finally:
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
