"""Produce a batch's output in a few calls: emissions, dead letters and table changelogs alike.

faust's ``topic.send`` and a table's ``__setitem__`` each build a future message, run codecs, hash the
key and hand one record to the Kafka client: that per-record machinery cost more than the processors
themselves. Here the processors write their tables through ``ChangelogTable`` (the local store plus a
changelog record in the ``Outbox``), and ``Emitter`` produces the outbox grouped by topic partition,
as whole record batches of the app's producer.

At least once: a batch's offsets are acknowledged (then committed) only once its records are. The
pipeline does not wait for that before it processes the next batch: ``Emitter.submit`` queues a batch's
outputs at once and its state (changelog records) once they are acknowledged, behind every earlier
batch's state, so that the broker's round
trips of batch N overlap the processing of batch N+1, while a state is still never written before the
outputs it remembers, nor before an earlier batch's state. Partitions are those of the
Java client and kafka-python (murmur2 of the key over the sorted partitions), so a changelog record
lands on its pupil's partition, like the pupil's learning events (co-partitioning).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Iterator, MutableMapping
from functools import partial
from typing import Any

import orjson

from vigie.core.topics import key_hash
from vigie.stream.undo import ABSENT, Journal, put_back, undo

#: (topic name, key, value); a ``None`` value is a tombstone.
Record = tuple[str, bytes, bytes | None]

#: Keys whose hash is remembered (pupil pseudonyms repeat); the memo is dropped when it grows past this.
HASH_MEMO_SIZE = 1 << 20


#: Batches whose records are still being acknowledged while the next one is processed (backpressure).
BATCHES_AHEAD = 2


class Outbox:
    """Records waiting to be produced; ``drain`` hands them over in the order they were added.

    ``state_topics`` names the changelog topics of the tables writing here (see ``Emitter.send_and_wait``).
    Every table write through ``ChangelogTable`` is journalled with the value it replaced, and so is every
    change a processor makes to data it keeps in memory (``vigie.stream.undo``: the signals engine writes
    to ``journal``), so that a processor that raised halfway through a batch can be undone whole
    (``checkpoint`` / ``rollback``): the pipeline then replays the batch event by event and dead-letters
    only the event that fails.
    """

    __slots__ = ("journal", "records", "state_topics")

    def __init__(self) -> None:
        self.records: list[Record] = []
        self.state_topics: set[str] = set()
        self.journal: Journal = []

    def add(self, topic: str, key: bytes, value: bytes | None) -> None:
        self.records.append((topic, key, value))

    def remember(self, store: MutableMapping[str, Any], key: str, previous: Any) -> None:
        """Note the value ``key`` had in ``store`` before a write (``ABSENT`` if none)."""
        self.journal.append((put_back, store, key, previous))

    def checkpoint(self) -> tuple[int, int]:
        """A point to come back to: what was added and changed so far."""
        return len(self.records), len(self.journal)

    def rollback(self, point: tuple[int, int]) -> None:
        """Forget the records added since ``point`` and undo the changes journalled since: the table values
        they overwrote are put back, and so is the data kept in memory."""
        records, changes = point
        del self.records[records:]
        undo(self.journal, changes)

    def drain(self) -> list[Record]:
        records, self.records = self.records, []
        self.journal.clear()
        return records


class ChangelogTable(MutableMapping[str, Any]):
    """A processor's view of a faust table: reads and writes the local store, writes become changelog
    records in ``outbox`` (instead of faust's one ``send_soon`` per write). Raw ``str`` keys."""

    def __init__(self, table: Any, outbox: Outbox) -> None:
        from faust.serializers import codecs

        self.table = table
        self.outbox = outbox
        self.topic = table.changelog_topic.get_topic_name()
        outbox.state_topics.add(self.topic)
        serializer = table.value_serializer or table.app.conf.value_serializer
        if serializer == "raw":
            self._encode: Callable[[Any], bytes] = bytes
        elif serializer == "json":  # the same JSON document as faust's codec (read back by it), faster
            self._encode = orjson.dumps
        else:
            self._encode = lambda value: codecs.dumps(serializer, value)

    def __getitem__(self, key: str) -> Any:
        return self.table.data[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.table.data.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self.table.data

    def __setitem__(self, key: str, value: Any) -> None:
        data = self.table.data
        self.outbox.remember(data, key, data.get(key, ABSENT))
        encoded = self._encode(value)  # before the write: a value that cannot be encoded changes nothing
        data[key] = value
        self.outbox.add(self.topic, key.encode(), encoded)

    def __delitem__(self, key: str) -> None:
        data = self.table.data
        previous = data[key]
        self.outbox.remember(data, key, previous)
        del data[key]
        self.outbox.add(self.topic, key.encode(), None)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self.table.data.keys()))

    def __len__(self) -> int:
        return len(self.table.data)


#: A submission waiting for its state to be written: output futures, state records, its done future.
_Submission = tuple[list[asyncio.Future], list[Record], asyncio.Future[None]]


class Emitter:
    """Produce records through the faust app's Kafka producer, one record batch per topic partition."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._partitions: dict[str, list[int]] = {}
        self._hashes: dict[bytes, int] = {}
        self._pending: asyncio.Queue[_Submission] | None = None
        self._runner: asyncio.Future[None] | None = None
        self._failed: Exception | None = None

    def _hash(self, key: bytes) -> int:
        found = self._hashes.get(key)
        if found is None:
            if len(self._hashes) >= HASH_MEMO_SIZE:
                self._hashes.clear()
            found = self._hashes[key] = key_hash(key)
        return found

    async def _partitions_of(self, producer: Any, topic: str) -> list[int]:
        partitions = self._partitions.get(topic)
        if partitions is None:
            partitions = self._partitions[topic] = sorted(await producer.client._wait_on_metadata(topic))
        return partitions

    async def send(self, records: list[Record]) -> list[asyncio.Future]:
        """Queue ``records`` on the producer; the futures resolve when the broker acknowledged them."""
        if not records:
            return []
        producer = self.app.producer._ensure_producer()
        groups: dict[tuple[str, int], list[tuple[bytes, bytes | None]]] = {}
        for topic, key, value in records:
            partitions = self._partitions.get(topic) or await self._partitions_of(producer, topic)
            partition = partitions[self._hash(key) % len(partitions)]
            groups.setdefault((topic, partition), []).append((key, value))
        futures: list[asyncio.Future] = []
        for (topic, partition), items in groups.items():
            batch = producer.create_batch()
            for key, value in items:
                if batch.append(key=key, value=value, timestamp=None) is None:
                    batch.close()  # complete: the producer sends it without lingering
                    futures.append(await producer.send_batch(batch, topic, partition=partition))
                    batch = producer.create_batch()
                    if batch.append(key=key, value=value, timestamp=None) is None:
                        raise ValueError(f"a record of {len(value or b'')} bytes for {topic} exceeds a whole batch")
            batch.close()
            futures.append(await producer.send_batch(batch, topic, partition=partition))
        return futures

    async def submit(self, records: list[Record], state_topics: Collection[str] = ()) -> asyncio.Future[None]:
        """Queue ``records``; the returned future is done once all of them are acknowledged (or failed).

        Outputs are queued at once; the state that remembers them (records of ``state_topics``) only once
        they are acknowledged, behind every earlier submission's state (the producer keeps a partition's
        records in order). A worker killed in between restarts from the older state and emits the same
        outputs again — deterministic ids, so the warehouse keeps one copy — instead of restoring a state
        whose outputs were never sent. Once a submission failed, no later one writes its state: they all
        fail with the same error. Returns when fewer than ``BATCHES_AHEAD`` earlier ones are waiting.
        """
        outputs = [r for r in records if r[0] not in state_topics]
        state = [r for r in records if r[0] in state_topics] if state_topics else []
        if self._pending is None:
            self._pending = asyncio.Queue(maxsize=BATCHES_AHEAD)
            self._runner = asyncio.ensure_future(self._write_states(self._pending))
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self._failed is not None:
            done.set_exception(self._failed)
            return done
        futures = await self.send(outputs)
        await self._pending.put((futures, state, done))
        return done

    async def _write_states(self, pending: asyncio.Queue[_Submission]) -> None:
        """Each submission in turn: once its outputs are acknowledged, queue its state (the producer keeps
        a partition's records in order) and go on to the next; its future is done when the state is."""
        while True:
            futures, state, done = await pending.get()
            try:
                if self._failed is not None:
                    raise self._failed
                if futures:
                    await asyncio.gather(*futures)
                written = await self.send(state)
            except Exception as error:  # the producer gave up: nothing later may write its state
                self._fail(done, error)
                continue
            if not written:
                done.set_result(None)
                continue
            asyncio.gather(*written).add_done_callback(partial(self._state_written, done))

    def _state_written(self, done: asyncio.Future[None], written: asyncio.Future[Any]) -> None:
        error = None if written.cancelled() else written.exception()
        if written.cancelled():
            done.cancel()
        elif isinstance(error, Exception):
            self._fail(done, error)
        elif not done.done():
            done.set_result(None)

    def _fail(self, done: asyncio.Future[None], error: Exception) -> None:
        self._failed = error
        if not done.done():
            done.set_exception(error)

    async def send_and_wait(self, records: list[Record], state_topics: Collection[str] = ()) -> None:
        """Produce ``records`` and wait for every acknowledgement (a failure raises); see ``submit``."""
        await await_done(await self.submit(records, state_topics))


async def await_done(done: asyncio.Future[None]) -> None:
    """Wait for a submission without cancelling it if the waiter is cancelled (its records are queued)."""
    await asyncio.shield(done)
