"""The batch consumer's bookkeeping: never commit over an offset not processed, never deliver past a hole.

The consumer is the worker's real one (built by the faust app, not started); only its calls to the broker
(assignment, seek, high-water mark) are replaced, so the decisions themselves run as in a worker.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

from vigie.core.settings import VigieSettings
from vigie.core.topics import LEARNING_EVENTS
from vigie.stream.app import faust_app
from vigie.stream.consumer import FETCH_MAX_WAIT_MS, HOLE_RETRIES, BatchConsumer

pytestmark = pytest.mark.unit


@dataclass
class _Record:
    offset: int
    key: bytes = b"k"
    value: bytes = b"v"


@pytest.fixture
def consumer(tmp_path: Path) -> Any:
    settings = VigieSettings(state_dir=tmp_path, kafka={"topic_prefix": "t"})
    app = faust_app(settings, app_id="unit-batch-consumer")
    found = app.consumer
    assert isinstance(found, BatchConsumer)
    return found


@pytest.fixture
def source(consumer: Any) -> TP:
    tp = TP(LEARNING_EVENTS.name("t"), 0)
    seeks: list[tuple[TP, int]] = []

    async def seek(partition: TP, offset: int) -> None:
        seeks.append((partition, offset))
        consumer._next_offset[partition] = offset

    consumer.assignment = lambda: {tp}
    consumer.highwater = lambda _tp: 100
    consumer.seek = seek
    consumer.seeks = seeks
    return tp


def test_the_learning_events_are_the_source_topic(consumer: Any, source: TP) -> None:
    assert consumer.source_topics == frozenset({source.topic})


def test_no_commit_over_an_unacknowledged_offset_right_after_the_commit_point(consumer: Any, source: TP) -> None:
    consumer._committed_offset[source] = 48  # the next offset to read is 48
    consumer._acked[source] = [49, 50]  # 48 was never processed
    consumer._acked_index[source] = {49, 50}
    # faust's own rule commits 51, over the unprocessed 48 (the loss diagnosed in issue 15).
    assert faust_aiokafka.Consumer._new_offset(consumer, source) == 51
    consumer._acked[source] = [49, 50]
    consumer._acked_index[source] = {49, 50}
    assert consumer._new_offset(source) is None
    consumer._acked[source] = [48, 49, 50]
    consumer._acked_index[source] = {48, 49, 50}
    assert consumer._new_offset(source) == 51


def test_a_fetch_after_a_hole_is_not_delivered_and_the_partition_is_sought_back(consumer: Any, source: TP) -> None:
    consumer._next_offset[source] = 48

    async def scenario() -> list[Any]:
        await consumer._dispatch({source: [_Record(49), _Record(50)]}, {source})
        assert consumer.deliveries.empty()
        assert consumer.seeks == [(source, 48)]
        await consumer._dispatch({source: [_Record(48), _Record(49), _Record(50)]}, {source})
        delivery = consumer.deliveries.get_nowait()
        return [record.offset for record in delivery.records()]

    assert asyncio.run(scenario()) == [48, 49, 50]
    assert consumer._next_offset[source] == 51


def test_records_of_a_paused_partition_are_fetched_again(consumer: Any, source: TP) -> None:
    consumer._next_offset[source] = 10
    asyncio.run(consumer._dispatch({source: [_Record(10), _Record(11)]}, set()))
    assert consumer.deliveries.empty()
    assert consumer.seeks == [(source, 10)]


def test_a_hole_that_stays_is_accepted_after_retries_and_committed_over(consumer: Any, source: TP) -> None:
    consumer._next_offset[source] = 5  # offsets 5..9 deleted by retention before they were read

    async def scenario() -> int:
        for _ in range(HOLE_RETRIES):
            await consumer._dispatch({source: [_Record(10), _Record(11)]}, {source})
            consumer._next_offset[source] = 5  # the seek lands past the log's start again
        return consumer.deliveries.qsize()

    assert asyncio.run(scenario()) == 1
    assert consumer.seeks == [(source, 5)] * (HOLE_RETRIES - 1)
    delivery = consumer.deliveries.get_nowait()
    consumer._committed_offset[source] = 5
    consumer.acknowledge(delivery)
    assert consumer._new_offset(source) == 12


def test_an_acknowledged_delivery_is_committable_and_no_longer_in_flight(consumer: Any, source: TP) -> None:
    consumer._next_offset[source] = 0

    async def scenario() -> Any:
        await consumer._dispatch({source: [_Record(0), _Record(1), _Record(2)]}, {source})
        return consumer.deliveries.get_nowait()

    delivery = asyncio.run(scenario())
    assert delivery.inflight in consumer._unacked_messages  # a revocation waits for it
    consumer._committed_offset[source] = 0
    consumer.acknowledge(delivery)
    assert delivery.inflight not in consumer._unacked_messages
    assert consumer._new_offset(source) == 3


def test_the_broker_holds_an_empty_fetch_briefly(consumer: Any) -> None:
    """faust's 1.5 s made answers wait in bursts of 1.5 s at the broker (bench.stream: p50 1.2 s at 300/s)."""

    async def create() -> Any:  # aiokafka builds its client inside a running loop
        return consumer._thread._create_worker_consumer(consumer.transport)

    client = asyncio.run(create())
    assert client._fetch_max_wait_ms == FETCH_MAX_WAIT_MS <= 200
