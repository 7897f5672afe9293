"""Stream worker figures through a real broker: answers per second per worker, and answer -> mastery latency.

    .venv/bin/python -m bench.stream [--answers 50000] [--partitions 4] [--workers 1] [--pupils 2000]
                                     [--rate 2000] [--latency-s 60]

Starts its own Kafka broker (free loopback ports, temp folder; jars from ``VIGIE_TEST_KAFKA_LIBS`` or
var/kafka/libs), creates the topics and pre-loads N synthetic ``AnswerSubmitted`` (valid, many pupils,
encoded once, published by a plain kafka-python producer so it is not the bottleneck). Then:

- throughput: W worker processes (``vigie stream worker``) start; the end offsets of the mastery topic
  are polled until N ``MasteryUpdated`` are there. Answers/s counts from the first update on the
  topic (the worker's start and group join are reported apart);
- latency: the workers still running, answers are published at a steady ``--rate`` for ``--latency-s``
  seconds; the latency of an answer is its ``MasteryUpdated``'s record timestamp minus its own (both
  CreateTime: the producers' clocks, same machine), p50/p95/max. ``--answer-time broker`` takes the
  answer's time from the broker instead (the topic is switched to LogAppendTime for that phase): the
  publisher's own queueing, here on the same two cores, is then left out.

Before the workers start, the raw limit is measured on the same pre-filled topic: aiokafka alone drains
it (no work, ``orjson.loads``, the contract's decoder), so the worker's figure is printed next to what
Kafka and decoding cost, with the ratios. The figures are merged into ``bench/results/latest.json``.

Everything started is stopped at the end.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import results
from vigie.core.contract.codec import encode
from vigie.core.contract.events import AnswerSubmitted, make_event_id
from vigie.core.contract.taxonomy import skills_for
from vigie.core.topics import LEARNING_EVENTS, MASTERY_UPDATES
from vigie.producers.pseudonym import Pseudonymizer

REPO = Path(__file__).resolve().parents[1]
BASE_TIME = datetime(2025, 11, 17, 9, 0, tzinfo=UTC)


class AnswerFactory:
    """Valid answers of ``pupils`` pupils (24 a class), round-robin, each answer a fresh event id."""

    def __init__(self, pupils: int, seed: int = 7) -> None:
        names = Pseudonymizer(b"bench-key-0123456789abcdef")
        self.rng = random.Random(seed)
        self.skills = [s.code for s in skills_for("CM1", "mathematiques")]
        self.pupils = [(names.student(f"eleve-{i}"), names.school_class(f"classe-{i // 24}")) for i in range(pupils)]
        self.counter = itertools.count()

    def next(self) -> tuple[bytes, bytes, str]:
        n = next(self.counter)
        student, klass = self.pupils[n % len(self.pupils)]
        source = f"bench-{uuid.uuid4().hex}"
        answer = AnswerSubmitted(
            event_id=make_event_id("bench", source),
            source_event_id=source,
            platform="bench",
            occurred_at=BASE_TIME + timedelta(seconds=n),
            academy="lyon",
            school_uai="0691234A",
            class_id=klass,
            student_id=student,
            level="CM1",
            session_id=f"sess-{n // 1000}",
            subject="mathematiques",
            skill_code=self.rng.choice(self.skills),
            item_id=f"item-{n % 50}",
            correct=self.rng.random() < 0.7,
            score=1.0,
            response_time_ms=12_000,
        )
        return student.encode(), encode(answer), str(answer.event_id)


#: The latency phase's publisher linger (see ``latency``).
PUBLISH_LINGER_MS = 5


def producer(bootstrap: str, linger_ms: int = 20):
    from kafka import KafkaProducer

    return KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        compression_type="lz4",
        linger_ms=linger_ms,
        batch_size=256 * 1024,
        client_id="bench-producer",
    )


def end_offsets(consumer, topic: str) -> int:
    from kafka import TopicPartition

    partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
    return sum(consumer.end_offsets(partitions).values())


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def throughput(bootstrap: str, mastery_topic: str, answers: int, workers, timeout_s: float = 900) -> dict:
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    try:
        started = time.perf_counter()
        first_at = first_count = None
        count = 0
        while count < answers and time.perf_counter() - started < timeout_s:
            if any(w.poll() is not None for w in workers):
                raise RuntimeError("a worker died: see its log")
            count = end_offsets(consumer, mastery_topic)
            if count and first_at is None:
                first_at, first_count = time.perf_counter(), count
                cpu_first = sum(cpu_seconds(w.pid) for w in workers)
            time.sleep(0.05)
        done = time.perf_counter()
        cpu = sum(cpu_seconds(w.pid) for w in workers) - cpu_first if first_at is not None else 0.0
    finally:
        consumer.close()
    span = done - (first_at or done)
    return {
        "answers": answers,
        "mastery_updates": count,
        "startup_s": round((first_at or done) - started, 1),
        "processing_s": round(span, 2),
        "worker_cpu_s": round(cpu, 2),
        "worker_cpu_share": round(cpu / span / len(workers), 2) if span > 0 else None,
        "answers_per_s": round((count - (first_count or 0)) / span) if span > 0 else None,
        # What a worker would do with a whole core: on a shared machine the wall-clock rate is a floor.
        "answers_per_cpu_s": round((count - (first_count or 0)) / cpu) if cpu > 0 else None,
        "cpu_us_per_answer": round(1e6 * cpu / (count - (first_count or 0)), 1) if count > (first_count or 0) else None,
    }


def latency(
    bootstrap: str, prefix: str, factory: AnswerFactory, rate: float, seconds: float, linger_ms: int = PUBLISH_LINGER_MS
) -> dict:
    """Publish at ``rate``/s for ``seconds``; then join answers to their updates by record timestamps."""
    from kafka import KafkaConsumer, TopicPartition

    source, target = LEARNING_EVENTS.name(prefix), MASTERY_UPDATES.name(prefix)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, consumer_timeout_ms=2000)
    tps = {t: [TopicPartition(t, p) for p in consumer.partitions_for_topic(t)] for t in (source, target)}
    starts = {t: consumer.end_offsets(tps[t]) for t in tps}
    # Pre-encoded bytes, paced sends. An answer's CreateTime is set when it is sent, before the producer's
    # linger: the latency includes that wait. 5 ms (the SDK lingers 20): with 0, answers paced 0.5 ms apart
    # went nearly one produce request each, publisher and broker CPU taken from the worker on these 2 cores.
    publisher = producer(bootstrap, linger_ms=linger_ms)
    sent: set[str] = set()
    batch = [factory.next() for _ in range(int(rate * seconds))]
    began = time.perf_counter()
    for i, (key, value, event_id) in enumerate(batch):
        lag = began + i / rate - time.perf_counter()
        if lag > 0:
            time.sleep(lag)
        publisher.send(source, key=key, value=value)
        sent.add(event_id)
    publisher.flush()
    publisher.close()
    answer_ts: dict[str, int] = {}
    update_ts: dict[str, int] = {}
    deadline = time.monotonic() + 60
    for topic, sink in ((source, answer_ts), (target, update_ts)):
        consumer.assign(tps[topic])
        for tp, offset in starts[topic].items():
            consumer.seek(tp, offset)
        while len(sink) < len(sent) and time.monotonic() < deadline:
            for record in consumer:
                payload = json.loads(record.value)
                key = payload["event_id"] if topic == source else payload["answer_event_id"]
                sink.setdefault(key, record.timestamp)
    consumer.close()
    lags = [update_ts[k] - answer_ts[k] for k in sent if k in update_ts and k in answer_ts]
    if not lags:
        return {"latency_answers": len(sent), "latency_matched": 0}
    return {
        "rate_per_s": rate,
        "latency_answers": len(sent),
        "latency_matched": len(lags),
        "latency_ms_p50": percentile(lags, 0.50),
        "latency_ms_p95": percentile(lags, 0.95),
        "latency_ms_p99": percentile(lags, 0.99),
        "latency_ms_max": max(lags),
        "latency_ms_mean": round(statistics.fmean(lags), 1),
        # The median latency of each second of the phase: a backlog grows, a periodic stall saws.
        "latency_ms_p50_by_second": _by_second(
            [(answer_ts[k], update_ts[k] - answer_ts[k]) for k in sent if k in update_ts and k in answer_ts]
        ),
    }


def stamp_on_append(bootstrap: str, topic: str) -> None:
    """Records of ``topic`` appended from now on carry the broker's append time instead of the producer's."""
    from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        config = {"message.timestamp.type": "LogAppendTime"}
        admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs=config)])
    finally:
        admin.close()


def _by_second(stamped: list[tuple[int, int]]) -> list[float]:
    if not stamped:
        return []
    start = min(t for t, _ in stamped)
    buckets: dict[int, list[int]] = {}
    for t, lag in stamped:
        buckets.setdefault((t - start) // 1000, []).append(lag)
    return [percentile(buckets[b], 0.50) for b in sorted(buckets)]


async def _drain(bootstrap: str, topic: str, records: int, work: str) -> float:
    """Records/s of one aiokafka consumer reading ``records`` from the start of every partition."""
    import orjson
    from aiokafka import AIOKafkaConsumer

    from vigie.core.contract.codec import decode_learning_event

    consumer = AIOKafkaConsumer(
        topic,  # no group: every partition, from the start
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        fetch_max_bytes=64 << 20,
        max_partition_fetch_bytes=16 << 20,
    )
    await consumer.start()
    try:
        seen = 0
        began = time.perf_counter()
        while seen < records:
            batches = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            for batch in batches.values():
                if work == "json":
                    for record in batch:
                        orjson.loads(record.value)
                elif work == "decode":
                    for record in batch:
                        decode_learning_event(record.value)
                seen += len(batch)
        return seen / (time.perf_counter() - began)
    finally:
        await consumer.stop()


def raw_limits(bootstrap: str, topic: str, records: int) -> dict:
    """What Kafka hands one consumer, and what decoding costs, on the pre-filled answers topic."""
    import asyncio

    return {
        f"{name}_per_s": round(asyncio.run(_drain(bootstrap, topic, records, work)))
        for name, work in (("raw_consume", "none"), ("json_parse", "json"), ("decode_only", "decode"))
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=50_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--pupils", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=2000.0, help="answers/s of the latency phase (0: skip)")
    parser.add_argument("--latency-s", type=float, default=60.0)
    parser.add_argument("--publish-linger-ms", type=int, default=PUBLISH_LINGER_MS, help="latency phase's publisher")
    parser.add_argument(
        "--answer-time",
        choices=["producer", "broker"],
        default="producer",
        help="latency from the answer's CreateTime (producer: the publisher's queue counts) or from its append "
        "to the topic (broker: the topic switched to LogAppendTime for the latency phase)",
    )
    parser.add_argument("--profile", type=Path, default=None, help="py-spy collapsed stacks of worker 0 (throughput)")
    parser.add_argument("--batch-size", type=int, default=None, help="VIGIE_STREAM__BATCH_SIZE of workers")
    parser.add_argument("--model", choices=["learner", "bkt"], default="learner", help="the workers' mastery model")
    args = parser.parse_args()
    started_on = results.machine()

    from tests.conftest import free_port
    from vigie.core.settings import VigieSettings
    from vigie.core.topics import ensure_topics
    from vigie.infra.broker import KafkaBroker
    from vigie.infra.processes import start_worker, stop_process

    tmp = Path(tempfile.mkdtemp(prefix="vigie-bench-stream-"))
    libs = Path(os.environ.get("VIGIE_TEST_KAFKA_LIBS", REPO / "var" / "kafka" / "libs"))
    broker = KafkaBroker(tmp / "kafka", libs, free_port(), free_port(), heap="768m")
    broker.start(timeout_s=120)
    workers = []
    try:
        stream = {"app_id": "bench", "mastery_model": args.model} | (
            {"batch_size": args.batch_size} if args.batch_size else {}
        )
        settings = VigieSettings(
            state_dir=tmp,
            kafka={
                "bootstrap_servers": broker.bootstrap,
                "topic_prefix": f"b{uuid.uuid4().hex[:8]}",
                "partitions": args.partitions,
            },
            stream=stream,
        )
        ensure_topics(settings.kafka)
        prefix = settings.kafka.topic_prefix
        factory = AnswerFactory(args.pupils)
        started = time.perf_counter()
        encoded = [factory.next() for _ in range(args.answers)]
        built = time.perf_counter() - started
        started = time.perf_counter()
        publisher = producer(broker.bootstrap)
        for key, value, _ in encoded:
            publisher.send(LEARNING_EVENTS.name(prefix), key=key, value=value)
        publisher.flush()
        publisher.close()
        print(
            json.dumps(
                {
                    "answers": args.answers,
                    "pupils": args.pupils,
                    "partitions": args.partitions,
                    "workers": args.workers,
                    "build_s": round(built, 1),
                    "preload_s": round(time.perf_counter() - started, 1),
                }
            ),
            flush=True,
        )
        raw = raw_limits(broker.bootstrap, LEARNING_EVENTS.name(prefix), args.answers)
        print(json.dumps({"raw_limit": raw}), flush=True)
        workers = [start_worker(settings, tmp / f"worker-{i}.log") for i in range(args.workers)]
        spy = None
        if args.profile is not None:
            import subprocess
            import sys

            spy = subprocess.Popen(
                [
                    str(Path(sys.executable).parent / "py-spy"),
                    "record",
                    "--format",
                    "raw",
                    "--rate",
                    "200",
                    "-o",
                    str(args.profile),
                    "--pid",
                    str(workers[0].pid),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        figures = throughput(broker.bootstrap, MASTERY_UPDATES.name(prefix), args.answers, workers)
        if spy is not None:
            spy.send_signal(__import__("signal").SIGINT)
            spy.wait(30)
        figures["answers_per_s_per_worker"] = (
            round(figures["answers_per_s"] / args.workers) if figures["answers_per_s"] else None
        )
        print(json.dumps({"throughput": figures}), flush=True)
        per_worker = figures["answers_per_s_per_worker"] or 0
        ratios = {
            "stream_answers_per_s": per_worker,
            "stream_to_raw_ratio": round(per_worker / raw["raw_consume_per_s"], 4),
            "stream_to_decode_ratio": round(per_worker / raw["decode_only_per_s"], 4),
            "stream_answers_per_cpu_s": figures.get("answers_per_cpu_s"),
            "stream_cpu_us_per_answer": figures.get("cpu_us_per_answer"),
        }
        print(json.dumps({"ratios": ratios}), flush=True)
        figures_out = raw | ratios | {"stream_partitions": args.partitions, "stream_workers": args.workers}
        if args.rate > 0 and args.answer_time == "broker":
            stamp_on_append(broker.bootstrap, LEARNING_EVENTS.name(prefix))
        if args.rate > 0:
            lat = latency(broker.bootstrap, prefix, factory, args.rate, args.latency_s, args.publish_linger_ms)
            print(json.dumps({"latency": lat}))
            figures_out |= {
                "latency_rate_per_s": args.rate,
                "latency_s": args.latency_s,
                "latency_p50_ms": lat.get("latency_ms_p50"),
                "latency_p95_ms": lat.get("latency_ms_p95"),
                "latency_p99_ms": lat.get("latency_ms_p99"),
                "latency_answer_time": args.answer_time,
            }
        print(json.dumps({"recorded": str(results.record("stream", figures_out, started_on))}))
    finally:
        for worker in workers:
            stop_process(worker)
        broker.stop()
        print(json.dumps({"logs": str(tmp)}))


if __name__ == "__main__":
    main()
