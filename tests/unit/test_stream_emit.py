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


def test_a_batch_is_processed_while_the_previous_ones_are_acknowledged_and_states_keep_their_order() -> None:
    """``submit`` returns before the broker answers; a state is queued only after its own outputs and
    every earlier state; the futures are done only when the state is acknowledged."""
    import asyncio

    async def scenario() -> list[bool]:
        emitter = Emitter(app=None)
        sent: list[str] = []
        acks: dict[str, asyncio.Future] = {}

        async def send(records):
            futures = []
            for topic, key, _ in records:
                name = f"{topic}:{key.decode()}"
                sent.append(name)
                acks[name] = asyncio.get_running_loop().create_future()
                futures.append(acks[name])
            return futures

        emitter.send = send
        first = await emitter.submit([("out", b"1", b"{}"), ("state", b"1", b"{}")], {"state"})
        second = await emitter.submit([("out", b"2", b"{}"), ("state", b"2", b"{}")], {"state"})
        await asyncio.sleep(0)
        assert sent == ["out:1", "out:2"]  # both batches' outputs are queued; no state yet
        acks["out:2"].set_result(None)
        await asyncio.sleep(0)
        assert sent == ["out:1", "out:2"]  # the second state waits for the first batch
        acks["out:1"].set_result(None)
        for _ in range(10):  # let the state writer run its turns
            await asyncio.sleep(0)
        assert sent == ["out:1", "out:2", "state:1", "state:2"]
        states = [first.done(), second.done()]
        acks["state:1"].set_result(None)
        acks["state:2"].set_result(None)
        await asyncio.gather(first, second)
        return states

    assert asyncio.run(scenario()) == [False, False]  # not done before their state is acknowledged


def test_after_a_failed_batch_no_later_batch_writes_its_state() -> None:
    import asyncio

    import pytest

    async def scenario() -> list[str]:
        emitter = Emitter(app=None)
        sent: list[str] = []

        async def send(records):
            futures = []
            for topic, key, _ in records:
                sent.append(f"{topic}:{key.decode()}")
                future = asyncio.get_running_loop().create_future()
                if key == b"1" and topic == "out":
                    future.set_exception(RuntimeError("broker refused"))
                else:
                    future.set_result(None)
                futures.append(future)
            return futures

        emitter.send = send
        first = await emitter.submit([("out", b"1", b"{}"), ("state", b"1", b"{}")], {"state"})
        second = await emitter.submit([("out", b"2", b"{}"), ("state", b"2", b"{}")], {"state"})
        for future in (first, second):
            with pytest.raises(RuntimeError, match="broker refused"):
                await future
        with pytest.raises(RuntimeError, match="broker refused"):
            await emitter.send_and_wait([("out", b"3", b"{}")], {"state"})
        return sent

    assert asyncio.run(scenario()) == ["out:1", "out:2"]
