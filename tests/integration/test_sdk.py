"""The SDK against the real broker: keyed, acknowledged, pseudonymised; xAPI ingest with dead letters."""

from __future__ import annotations

import base64
import threading
import time
from pathlib import Path

import pytest
from kafka import KafkaConsumer, TopicPartition
from typer.testing import CliRunner

from tests import factories
from vigie.core.contract.codec import decode, decode_learning_event
from vigie.core.contract.events import DeadLetter
from vigie.core.errors import InvalidEventError
from vigie.core.topics import DEAD_LETTERS, LEARNING_EVENTS, ensure_topics
from vigie.producers.pseudonym import AcademyPseudonymizers
from vigie.producers.sdk import VigieProducer

pytestmark = pytest.mark.integration


FIXTURE = Path(__file__).resolve().parents[1] / "data" / "xapi" / "statements.jsonl"
RAW_IDS = (b"ent-48213", b"ent-77120", b"cm1-b-2025", b"ENT-CM1-B-2025", b"prof-2291", b"Camille Martin")


def _records(settings, spec, expected: int, timeout_s: float = 60.0) -> list:
    """Every record of a topic, waiting (bounded) until ``expected`` are there."""
    topic = spec.name(settings.kafka.topic_prefix)
    consumer = KafkaConsumer(
        bootstrap_servers=settings.kafka.bootstrap_servers,
        consumer_timeout_ms=500,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        found: list = []
        deadline = time.monotonic() + timeout_s
        while len(found) < expected and time.monotonic() < deadline:
            found += list(consumer)
        return found
    finally:
        consumer.close()


def _all_bytes(record) -> bytes:
    """Key, value and headers of a record, plus the decoded original bytes of a dead letter."""
    headers = b"".join(k.encode() + (v or b"") for k, v in record.headers or [])
    inner = b""
    if record.topic.endswith(DEAD_LETTERS.suffix):
        inner = base64.b64decode(decode(record.value, DeadLetter).payload_b64)
    return (record.key or b"") + record.value + headers + inner


def test_a_platform_publishes_from_raw_ids_sync_and_fire_and_forget(settings) -> None:
    ensure_topics(settings.kafka)
    pupils = [factories.pupil(student=f"ent-4821{n}", school_class="cm1-b-2025") for n in range(3)]
    delivered: list = []
    done = threading.Event()
    with VigieProducer(settings, platform="mathix") as vigie:
        config = vigie.publisher._producer.config
        assert (config["acks"], config["enable_idempotence"], config["compression_type"]) == (-1, True, "lz4")
        for n in range(30):
            answer = vigie.events.answer(
                pupils[n % 3],
                source_event_id=f"attempt-{n}",
                session_id="s-1",
                skill_code="C3-MA-NOM-01",
                item_id=f"q-{n}",
                correct=n % 2 == 0,
                response_time_ms=1000 + n,
            )
            vigie.publish(answer, on_success=delivered.append, on_error=lambda event, error: done.set())
        metadata = vigie.publish_sync(
            vigie.events.session_ended(
                pupils[0], source_event_id="s-1:end", session_id="s-1", outcome="completed", answers_count=10
            )
        )
        vigie.flush()
    assert metadata.offset >= 0 and metadata.topic == LEARNING_EVENTS.name(settings.kafka.topic_prefix)
    assert len(delivered) == 30 and not done.is_set()

    records = _records(settings, LEARNING_EVENTS, 31)
    assert len(records) == 31
    partition_of: dict[bytes, set[int]] = {}
    for record in records:
        event = decode_learning_event(record.value)
        assert record.key == event.student_id.encode(), "keyed by the pupil's pseudonym"
        partition_of.setdefault(record.key, set()).add(record.partition)
        for raw in RAW_IDS:
            assert raw not in _all_bytes(record), raw
    assert all(len(parts) == 1 for parts in partition_of.values()), "one pupil, one partition"
    lyon = AcademyPseudonymizers(settings.privacy).for_academy("lyon")
    assert set(partition_of) == {lyon.student(f"ent-4821{n}").encode() for n in range(3)}


def test_the_publisher_refuses_what_is_not_a_small_contract_event(settings) -> None:
    ensure_topics(settings.kafka)
    with VigieProducer(settings, platform="mathix") as vigie:
        with pytest.raises(InvalidEventError, match="expected AnswerSubmitted") as caught:
            vigie.publish({"kind": "answer"})  # type: ignore[arg-type]
        assert caught.value.field == "event"
        huge = factories.answer().model_copy(update={"item_id": "q" * 20_000})  # bypasses validation
        with pytest.raises(InvalidEventError, match="exceeds 16384"):
            vigie.publish(huge)
    assert _records(settings, LEARNING_EVENTS, 1, timeout_s=2) == []


def test_xapi_ingest_publishes_mapped_statements_and_dead_letters_the_rest(settings, monkeypatch) -> None:
    ensure_topics(settings.kafka)
    monkeypatch.setenv("VIGIE_KAFKA__BOOTSTRAP_SERVERS", settings.kafka.bootstrap_servers)
    monkeypatch.setenv("VIGIE_KAFKA__TOPIC_PREFIX", settings.kafka.topic_prefix)
    from vigie.cli import app

    dry = CliRunner().invoke(app, ["xapi", "ingest", str(FIXTURE), "--platform", "mathix", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "18 statements read, 9 would publish, 9 rejected" in dry.stdout
    assert _records(settings, LEARNING_EVENTS, 1, timeout_s=2) == [], "a dry run publishes nothing"

    result = CliRunner().invoke(app, ["xapi", "ingest", str(FIXTURE), "--platform", "mathix"])
    assert result.exit_code == 0, result.output
    assert "18 statements read, 9 published, 9 rejected" in result.stdout
    assert "2 rejected at context.extensions[urn:vigie:xapi:skill]" in result.stdout

    events = _records(settings, LEARNING_EVENTS, 9)
    letters = _records(settings, DEAD_LETTERS, 9)
    assert len(events) == 9 and len(letters) == 9
    assert sorted(decode_learning_event(r.value).kind for r in events).count("answer") == 5
    decoded = sorted((decode(r.value, DeadLetter) for r in letters), key=lambda letter: letter.offset)
    assert [letter.offset for letter in decoded] == list(range(10, 19))
    assert all(letter.source_topic == f"xapi:{FIXTURE.name}" and letter.reason for letter in decoded)
    for record in events + letters:
        for raw in RAW_IDS:
            assert raw not in _all_bytes(record), (raw, record.topic)


def test_the_example_of_docs_platforms_md_publishes_three_events(settings, monkeypatch) -> None:
    ensure_topics(settings.kafka)
    monkeypatch.setenv("VIGIE_KAFKA__BOOTSTRAP_SERVERS", settings.kafka.bootstrap_servers)
    monkeypatch.setenv("VIGIE_KAFKA__TOPIC_PREFIX", settings.kafka.topic_prefix)
    doc = (Path(__file__).resolve().parents[2] / "docs" / "platforms.md").read_text(encoding="utf-8")
    example = doc.split("### Publish in a few lines", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    exec(compile(example, "docs/platforms.md", "exec"), {})

    records = _records(settings, LEARNING_EVENTS, 3)
    assert [decode_learning_event(r.value).kind for r in records] == ["session_started", "answer", "session_ended"]
    for record in records:
        for raw in RAW_IDS:
            assert raw not in _all_bytes(record)


def test_a_missing_topic_is_a_retriable_error_that_says_what_to_do(settings) -> None:
    from vigie.core.errors import RetriableError

    with VigieProducer(settings, platform="mathix", max_block_ms=2000) as vigie:  # topics never created
        event = vigie.events.session_started(factories.pupil(), source_event_id="s-1:start", session_id="s-1")
        with pytest.raises(RetriableError, match="vigie kafka start") as caught:
            vigie.publish_sync(event)
    assert caught.value.code == "KafkaTimeoutError"
