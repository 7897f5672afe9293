"""The stream's output path without a broker: table writes become changelog records, keys hash like Kafka's."""

from __future__ import annotations

import pytest

from vigie.core.settings import VigieSettings
from vigie.stream.emit import ChangelogTable, Emitter, Outbox

pytestmark = pytest.mark.unit


def test_table_writes_go_to_the_store_and_to_the_outbox_as_changelog_records(tmp_path) -> None:
    from faust.serializers import codecs

    from vigie.stream.topology import create_app

    stream_app = create_app(VigieSettings(state_dir=tmp_path, kafka={"partitions": 3}))
    signals = stream_app.app.Table("json-state", default=None, key_type=str, partitions=3)  # faust's JSON codec
    outbox = Outbox()
    table = ChangelogTable(signals, outbox)
    table["pupil-a"] = {"recent": "101", "earlier_rate": 0.5, "first_day": None}
    assert table.get("pupil-a") == {"recent": "101", "earlier_rate": 0.5, "first_day": None}
    assert signals.data["pupil-a"] == table["pupil-a"] and "pupil-a" in table and len(table) == 1
    del table["pupil-a"]
    assert table.get("pupil-a") is None and list(table) == []
    (topic, key, value), (_, _, tombstone) = outbox.drain()
    assert topic == signals.changelog_topic.get_topic_name() and key == b"pupil-a" and tombstone is None
    # faust's own codec reads the value back on recovery
    assert codecs.loads(signals.changelog_topic.value_serializer or "json", value) == {
        "recent": "101",
        "earlier_rate": 0.5,
        "first_day": None,
    }
    assert outbox.drain() == []


def test_a_raw_table_writes_the_processors_bytes_as_they_are(tmp_path) -> None:
    from vigie.stream.topology import create_app

    stream_app = create_app(VigieSettings(state_dir=tmp_path, kafka={"partitions": 3}))
    outbox = Outbox()
    table = ChangelogTable(stream_app.app.tables["signals-state"], outbox)
    table["pupil-a"] = b"\x02state"
    assert table["pupil-a"] == b"\x02state"
    ((_, key, value),) = outbox.drain()
    assert (key, value) == (b"pupil-a", b"\x02state")
    with pytest.raises(TypeError):
        table["pupil-b"] = {"a": "dict"}  # not bytes: refused before anything is written
    assert "pupil-b" not in table


def test_keys_land_on_the_partition_the_java_client_and_kafka_python_choose() -> None:
    from kafka.partitioner.default import murmur2

    emitter = Emitter(app=None)
    for key in (b"pupil-a", b"4f3c2a", b"", "élève".encode()):
        expected = (murmur2(key) & 0x7FFFFFFF) % 6
        assert emitter._hash(key) % 6 == expected
        assert emitter._hash(key) % 6 == expected  # memoised


def test_outputs_are_acknowledged_before_the_state_that_remembers_them() -> None:
    """Killed between the two, a worker re-emits (deduplicated downstream) instead of losing outputs."""
    import asyncio

    emitter = Emitter(app=None)
    phases: list[list[str]] = []

    async def record_phase(records):
        phases.append([topic for topic, _, _ in records])
        return []

    emitter.send = record_phase  # the broker round trip is what the integration tests cover
    records = [
        ("app-signals-state-changelog", b"p", b"{}"),
        ("vigie.signals.v1", b"p", b"{}"),
        ("vigie.mastery-updates.v1", b"p", b"{}"),
        ("app-mastery-changelog", b"p", None),
    ]
    asyncio.run(emitter.send_and_wait(records, {"app-signals-state-changelog", "app-mastery-changelog"}))
    assert phases == [
        ["vigie.signals.v1", "vigie.mastery-updates.v1"],
        ["app-signals-state-changelog", "app-mastery-changelog"],
    ]
