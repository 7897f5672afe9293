"""Prometheus metrics scraped over HTTP from a running stream worker and sink match a known run."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
import uuid
from collections import defaultdict
from pathlib import Path

import orjson
import pytest
from kafka import KafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from tests import factories
from tests.conftest import free_port
from vigie.core.settings import VigieSettings
from vigie.core.topics import DEAD_LETTERS, LEARNING_EVENTS, MASTERY_UPDATES, ensure_topics
from vigie.infra.processes import settings_env, start_vigie, start_worker, stop_process
from vigie.producers.sdk import EventPublisher

pytestmark = pytest.mark.integration


def scrape(port: int) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """Every sample on http://127.0.0.1:port/metrics: name -> {sorted labels: value}."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = defaultdict(dict)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[sample.name][tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def _value(samples, name: str, **labels: str) -> float:
    return samples.get(name, {}).get(tuple(sorted(labels.items())), 0.0)


def test_worker_and_sink_metrics_match_a_known_run(settings: VigieSettings, tmp_path: Path) -> None:
    worker_port, sink_port = free_port(), free_port()
    settings = settings.model_copy(
        update={
            "state_dir": tmp_path / "state",
            "stream": settings.stream.model_copy(update={"metrics_port": worker_port}),
            "sink": settings.sink.model_copy(update={"metrics_port": sink_port}),
        }
    )
    ensure_topics(settings.kafka)
    prefix = settings.kafka.topic_prefix
    learning, mastery, dlq = (t.name(prefix) for t in (LEARNING_EVENTS, MASTERY_UPDATES, DEAD_LETTERS))
    answers = [factories.answer(student_id=factories.student(p % 2)) for p in range(6)]
    wrong_score = orjson.loads(answers[0].model_dump_json()) | {"score": 7.5, "event_id": str(uuid.uuid4())}
    worker = start_worker(settings, tmp_path / "worker.log")
    sink = start_vigie(settings, ["sink"], tmp_path / "sink.log")
    try:
        with EventPublisher(settings.kafka) as publisher:
            for event in answers:
                publisher.publish_sync(event)
        producer = KafkaProducer(bootstrap_servers=settings.kafka.bootstrap_servers)
        producer.send(learning, key=b"k", value=b"{not json")
        producer.send(learning, key=b"k", value=orjson.dumps(wrong_score))
        producer.flush()
        producer.close()

        deadline = time.monotonic() + 240
        while True:
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
            assert sink.poll() is None, (tmp_path / "sink.log").read_text()[-3000:]
            try:
                stream, stored = scrape(worker_port), scrape(sink_port)
            except OSError:
                stream, stored = {}, {}
            done = (
                _value(stored, "vigie_sink_rows_total", table="mastery_updates") >= 6
                and _value(stored, "vigie_sink_rows_total", table="dead_letters") >= 2
            )
            if done or time.monotonic() > deadline:
                break
            time.sleep(1)

        # The worker: 8 messages in, 6 mastery updates and 2 dead letters out, each reason counted once.
        assert _value(stream, "vigie_stream_events_in_total", topic=learning) == 8
        assert _value(stream, "vigie_stream_events_out_total", topic=mastery) == 6
        assert _value(stream, "vigie_stream_events_out_total", topic=dlq) == 2
        assert _value(stream, "vigie_stream_dead_letters_total", reason="payload") == 1
        assert _value(stream, "vigie_stream_dead_letters_total", reason="score") == 1
        assert sum(stream["vigie_stream_batch_seconds_count"].values()) >= 1
        assert _value(stream, "vigie_stream_last_batch_timestamp_seconds") > time.time() - 600
        lags = stream["vigie_stream_consumer_lag"]
        assert lags and all(dict(labels)["topic"] == learning for labels in lags) and sum(lags.values()) == 0

        # The sink: the same 8 learning messages read (2 skipped as invalid), every row inserted once.
        assert _value(stored, "vigie_sink_consumed_total", topic=learning) == 8
        assert _value(stored, "vigie_sink_invalid_skipped_total", topic=learning) == 2
        assert _value(stored, "vigie_sink_rows_total", table="answers") == 6
        assert _value(stored, "vigie_sink_rows_total", table="mastery_updates") == 6
        assert _value(stored, "vigie_sink_rows_total", table="dead_letters") == 2
        assert _value(stored, "vigie_sink_retries_total") == 0
        assert _value(stored, "vigie_sink_last_insert_timestamp_seconds") > time.time() - 600
        assert sum(stored["vigie_sink_flush_seconds_count"].values()) >= 1
        # `vigie status` shows the same figures at a glance, from another folder.
        env = settings_env(settings)
        env.pop("CLICKHOUSE_URL", None)
        shown = subprocess.run(
            [sys.executable, "-c", "from vigie.cli import main; main()", "status", "--format", "json"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert shown.returncode == 0, shown.stdout + shown.stderr
        processes = json.loads(shown.stdout)["processes"]
        assert processes["sink"]["rows"]["answers"] == 6 and processes["sink"]["retries"] == 0
        assert processes["worker 1"]["events_in"] == 8
        assert processes["worker 1"]["dead_letters"] == {"payload": 1, "score": 1}

        # Bounded labels: no pupil pseudonym anywhere in either page.
        for page in (stream, stored):
            labels = {value for series in page.values() for key in series for _, value in key}
            assert not any(factories.student(p) in labels for p in range(2))
    finally:
        stop_process(worker)
        stop_process(sink)
