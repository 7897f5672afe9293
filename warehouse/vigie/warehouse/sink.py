"""Kafka -> ClickHouse sink: batched, at least once, and no duplicate row visible to queries.

Messages are buffered per table and flushed when a buffer reaches ``batch_rows`` or the oldest
row is ``batch_seconds`` old. A flush first asks ClickHouse which of the batch's event ids it
already holds (by id, in ``event_ids``, whatever the event time) and inserts only the others,
so a redelivered batch (after a crash between insert and commit) or a retry rebuilt with a later
event time adds nothing, and materialized views count each event once. Offsets are committed
only after every buffer was accepted; while ClickHouse refuses, the sink backs off and retries
the same batch without committing.

A batch is written in a background thread while the next polls are decoded (the embedded engine
and the HTTP client both release the GIL while ClickHouse works): at most one batch is in flight,
and its offsets, captured when it was detached, are committed once it is stored.
"""

from __future__ import annotations

import gc
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from clickhouse_connect.driver.client import Client
from kafka import KafkaConsumer, TopicPartition
from kafka.errors import CommitFailedError, IllegalGenerationError, RebalanceInProgressError, UnknownMemberIdError
from kafka.structs import OffsetAndMetadata

from vigie.core.errors import InvalidEventError, PermanentError
from vigie.core.settings import VigieSettings
from vigie.core.topics import LEARNING_EVENTS, TopicSpec
from vigie.warehouse import metrics
from vigie.warehouse.failures import classify
from vigie.warehouse.rows import BATCH_ROUTES, ROUTES, Block, Outcome, Routed, Table

log = logging.getLogger(__name__)


@dataclass
class SinkStats:
    consumed: int = 0
    inserted: dict[str, int] = field(default_factory=dict)
    duplicates_skipped: int = 0  # already stored: recognised by the lookup
    duplicates_in_batch: int = 0  # twice in one batch: collapsed before the lookup
    invalid_skipped: int = 0
    flushes: int = 0
    retries: int = 0

    @property
    def inserted_total(self) -> int:
        return sum(self.inserted.values())


class _Buffer:
    """Rows waiting for one table, keyed by event id (duplicates within a batch collapse here)."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.rows: dict[Any, list[Any]] = {}
        self.since: float | None = None

    def add(self, event_id: Any, row: list[Any]) -> None:
        if self.since is None:
            self.since = time.monotonic()
        self.rows.setdefault(event_id, row)


#: Ids per duplicate lookup (one query each).
LOOKUP_IDS = 20_000

#: Container allocations between two young-generation collections while the sink runs (CPython: 700).
GC_YOUNG_THRESHOLD = 50_000


def tune_garbage_collector() -> None:
    """Collect cycles less often, as the stream worker does: a poll decodes tens of thousands of small
    containers that live until the flush (rows, columns, reasons), so with CPython's default threshold the
    collector ran every few hundred allocations and walked the whole buffer each time; rows hold no cycles
    (reference counting frees them). What was built before (modules, settings, the client) is frozen out of
    the collections. Measured with ``bench.sink`` (docs/performance.md): signals 71 -> 50 CPU µs per row,
    their redelivery 44 -> 19."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, 20, 20)


_UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_UUID_TEXTS = re.compile(f"{_UUID}(?:','{_UUID})*").fullmatch


class _UUIDArray:
    """A bound ``Array(UUID)`` value rendered in one pass: clickhouse-connect formats a list element by
    element (~5 µs per id); this object's ``str`` is the whole literal. Only ``uuid.UUID`` ids, or their
    canonical text (checked here in one regex), are accepted: hex digits and dashes, nothing to escape,
    nothing to inject."""

    __slots__ = ("text",)

    def __init__(self, ids: list[Any]) -> None:
        if not ids:
            self.text = "[]"
            return
        if all(type(i) is uuid.UUID for i in ids):
            self.text = "['" + "','".join(map(str, ids)) + "']"
            return
        if not all(type(i) is str for i in ids):
            raise TypeError("event ids must be uuid.UUID or their canonical text")
        joined = "','".join(ids)
        if not _UUID_TEXTS(joined):
            raise TypeError("event ids must be uuid.UUID or their canonical text")
        self.text = "['" + joined + "']"

    def __str__(self) -> str:
        return self.text


class WarehouseWriter:
    """Idempotent batched inserts into the warehouse (no Kafka here: usable from any loader)."""

    def __init__(self, client: Client, database: str) -> None:
        self.client = client
        self.database = database

    def stored_ids(self, table: Table, event_ids: list[Any]) -> set[Any]:
        """The ids among ``event_ids`` already stored in ``table``, whatever their event time.

        Looked up in ``event_ids`` (migration 0020), sorted by (table, id) with 128-row granules: each id
        costs one granule, so a check reads about (ids × 128) rows, not the history. The ids travel as one
        bound ``Array(UUID)`` parameter, formatted here in one pass (UUIDs need no escaping).
        """
        found: set[Any] = set()
        # Ids given as text come back as text (the batch path keeps UUIDs as their canonical text).
        column = "toString(event_id)" if event_ids and type(event_ids[0]) is str else "event_id"
        for start in range(0, len(event_ids), LOOKUP_IDS):  # keeps a server's HTTP parameters small
            chunk = event_ids[start : start + LOOKUP_IDS]
            result = self.client.query(
                f"SELECT {column} FROM {self.database}.event_ids"
                " WHERE table_name = {table:String} AND event_id IN {ids:Array(UUID)}",
                parameters={"table": table.name, "ids": _UUIDArray(chunk)},
            )
            found.update(r[0] for r in result.result_rows)
        return found

    def write(self, table: Table, rows_by_id: dict[Any, list[Any]]) -> tuple[int, int]:
        """Insert the rows whose event id is not stored yet; return (inserted, skipped)."""
        if not rows_by_id:
            return 0, 0
        already = self.stored_ids(table, list(rows_by_id))
        fresh = [row for event_id, row in rows_by_id.items() if event_id not in already]
        if fresh:  # column-oriented: transposed here in C (zip), not value by value in the driver
            self.client.insert(
                f"{self.database}.{table.name}",
                list(zip(*fresh, strict=True)),
                column_names=list(table.columns),
                column_oriented=True,
            )
        return len(fresh), len(already)


#: Next offset to read per partition: what a commit records.
Positions = dict[TopicPartition, int]


@dataclass
class _Flush:
    """A detached batch being written in the background, and the offsets it covers."""

    written: Future[None]
    positions: Positions
    started: float


class Sink:
    """Consumes the routed topics and writes them through a ``WarehouseWriter``."""

    def __init__(
        self,
        settings: VigieSettings,
        client: Client,
        routes: dict[TopicSpec, Callable[[bytes], Routed | None]] | None = None,
    ) -> None:
        self.settings = settings
        self.writer = WarehouseWriter(client, settings.warehouse.database)
        routes = routes if routes is not None else ROUTES
        prefix = settings.kafka.topic_prefix
        self.routes = {spec.name(prefix): route for spec, route in routes.items()}
        #: Topics whose batches decode into columns (only where the route is the contract's own).
        self.batch_routes = {
            spec.name(prefix): BATCH_ROUTES[spec]
            for spec, route in routes.items()
            if spec in BATCH_ROUTES and route is ROUTES[spec]
        }
        #: Topics keyed by the pupil: a row whose pupil is not the message key is skipped, as the stream
        #: dead-letters it (the history and the stream must agree on what was accepted).
        self.pupil_keyed = {spec.name(prefix) for spec in routes if spec is LEARNING_EVENTS}
        self.buffers: dict[str, _Buffer] = {}
        self.stats = SinkStats()
        self._stop = threading.Event()
        #: Offsets after every record accepted so far, and after the last commit.
        self._positions: Positions = {}
        self._committed: Positions = {}
        self._writer_thread: ThreadPoolExecutor | None = None
        self._in_flight: _Flush | None = None

    def stop(self) -> None:
        self._stop.set()

    def _consumer(self, metadata_wait_s: float = 30.0) -> KafkaConsumer:
        consumer = KafkaConsumer(
            bootstrap_servers=self.settings.kafka.bootstrap_servers,
            group_id=self.settings.sink.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=5000,
            fetch_max_bytes=64 * 1024 * 1024,
            max_partition_fetch_bytes=16 * 1024 * 1024,
            client_id="vigie-sink",
        )
        # Join the group only once every topic's partitions are known: a topic missing from the
        # metadata when the group forms (leader still being elected) gets no partition, and stays
        # unassigned until the next metadata refresh, minutes later.
        deadline = time.monotonic() + metadata_wait_s
        missing = list(self.routes)
        while missing and time.monotonic() < deadline:
            missing = [topic for topic in missing if not consumer.partitions_for_topic(topic)]
            if missing:
                time.sleep(0.5)
        if missing:
            log.warning("no partition metadata yet for %s; consuming anyway", ", ".join(missing))
        consumer.subscribe(list(self.routes))
        return consumer

    def _accept(self, topic: str, partition: int, offset: int, value: bytes | None, key: bytes | None = None) -> None:
        if value is None:  # a tombstone of a compacted topic: nothing to store
            return
        try:
            routed = self.routes[topic](value)
        except InvalidEventError as error:
            self._invalid(topic, partition, offset, error)
            return
        if routed is not None:
            self._add(topic, partition, offset, key, *routed)

    def _accept_batch(self, topic: str, partition: int, records: list[Any]) -> None:
        """Buffer the rows of a poll's records of one partition: decoded as columns where the topic allows."""
        if records:
            self._positions[TopicPartition(topic, partition)] = records[-1].offset + 1
        route = self.batch_routes.get(topic)
        if route is None:
            for record in records:
                self._accept(topic, partition, record.offset, record.value, record.key)
            return
        live = [r for r in records if r.value is not None]  # tombstones: nothing to store
        blocks, decided = route([r.value for r in live])
        if decided:  # some messages went through pydantic: add every row in offset order, as one by one
            self._add_in_order(topic, partition, live, blocks, decided)
            return
        for table, positions, event_ids, pupils, rows in blocks:
            self._add_block(topic, partition, live, table, positions, event_ids, pupils, rows)

    def _add_block(
        self,
        topic: str,
        partition: int,
        live: list[Any],
        table: Table,
        positions: list[int],
        event_ids: Any,
        pupils: Any,
        rows: list[Any],
    ) -> None:
        buffer = self._buffer(table)
        keyed = topic in self.pupil_keyed
        before = len(buffer.rows)
        added = 0
        for position, event_id, pupil, row in zip(positions, event_ids, pupils or event_ids, rows, strict=True):
            if keyed and live[position].key != pupil.encode():
                self._invalid_key(topic, partition, live[position].offset)
                continue
            buffer.rows.setdefault(event_id, row)
            added += 1
        self.stats.duplicates_in_batch += before + added - len(buffer.rows)

    def _add_in_order(self, topic: str, partition: int, live: list[Any], blocks: list[Block], decided: Outcome) -> None:
        entries: list[tuple[int, Any]] = [
            (position, (table, event_id, row))
            for table, positions, event_ids, _, rows in blocks
            for position, event_id, row in zip(positions, event_ids, rows, strict=True)
        ]
        entries += decided
        entries.sort(key=lambda entry: entry[0])
        for position, outcome in entries:
            record = live[position]
            if isinstance(outcome, InvalidEventError):
                self._invalid(topic, partition, record.offset, outcome)
            elif outcome is not None:
                self._add(topic, partition, record.offset, record.key, *outcome)

    def _invalid(self, topic: str, partition: int, offset: int, error: InvalidEventError) -> None:
        # The stream's entrance sends this message to the dead-letter topic; the sink only counts it.
        self.stats.invalid_skipped += 1
        metrics.invalid(topic)
        log.debug("skipping invalid message %s[%s]@%s: %s", topic, partition, offset, error)

    def _invalid_key(self, topic: str, partition: int, offset: int) -> None:
        self.stats.invalid_skipped += 1  # dead-lettered by the stream: not the pupil's key
        metrics.invalid(topic)
        log.debug("skipping %s[%s]@%s: its key is not the pupil's pseudonym", topic, partition, offset)

    def _buffer(self, table: Table) -> _Buffer:
        buffer = self.buffers.get(table.name)
        if buffer is None:
            buffer = self.buffers[table.name] = _Buffer(table)
        if buffer.since is None:
            buffer.since = time.monotonic()
        return buffer

    def _add(
        self, topic: str, partition: int, offset: int, key: bytes | None, table: Table, event_id: Any, row: Any
    ) -> None:
        if topic in self.pupil_keyed and key != str(row[table.columns.index("student_id")]).encode():
            self._invalid_key(topic, partition, offset)
            return
        buffer = self._buffer(table)
        if event_id in buffer.rows:
            self.stats.duplicates_in_batch += 1  # a duplicate within the batch: collapses here
        buffer.add(event_id, row)

    def _due(self) -> bool:
        batch = self.settings.sink
        pending = sum(len(b.rows) for b in self.buffers.values())
        oldest = min((b.since for b in self.buffers.values() if b.since is not None), default=None)
        return pending >= batch.batch_rows or (oldest is not None and time.monotonic() - oldest >= batch.batch_seconds)

    def _start_flush(self) -> None:
        """Detach the buffers and write them in the background; new records buffer meanwhile."""
        assert self._in_flight is None, "one batch in flight at most"
        buffers, self.buffers = self.buffers, {}
        if self._writer_thread is None:
            self._writer_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vigie-sink-write")
        self._in_flight = _Flush(
            self._writer_thread.submit(self._write_all, buffers), dict(self._positions), time.perf_counter()
        )

    def _finish_flush(self, consumer: KafkaConsumer) -> None:
        """Wait for the batch in flight (its failure is raised here) and commit the offsets it covers."""
        flush, self._in_flight = self._in_flight, None
        if flush is None:
            return
        flush.written.result()
        self._commit(consumer, flush.positions)
        self.stats.flushes += 1
        metrics.flushed(flush.started)

    def _flush(self, consumer: KafkaConsumer) -> None:
        """Write what is buffered and commit, waiting for it (no overlap)."""
        self._finish_flush(consumer)
        self._start_flush()
        self._finish_flush(consumer)

    def _write_all(self, buffers: dict[str, _Buffer]) -> None:
        """Store every buffer, retrying while the warehouse refuses for a reason that can pass."""
        delay = 0.5
        while True:
            try:
                for name, buffer in list(buffers.items()):
                    inserted, skipped = self.writer.write(buffer.table, buffer.rows)
                    self.stats.inserted[name] = self.stats.inserted.get(name, 0) + inserted
                    self.stats.duplicates_skipped += skipped
                    metrics.written(name, inserted, skipped)
                    del buffers[name]
                return
            except Exception as error:  # keep the batch, commit nothing; retry only what can pass later
                failure = classify(error, "the warehouse refused a batch")
                if self._stop.is_set() or isinstance(failure, PermanentError):
                    log.error("sink stopping, nothing committed: %s", failure)
                    raise failure from error
                self.stats.retries += 1
                metrics.retried()
                log.warning("%s; retrying in %.1fs", failure, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, 30.0)

    def close(self) -> None:
        """End the writer thread (once nothing is in flight); a later flush starts a new one."""
        if self._writer_thread is not None:
            self._writer_thread.shutdown(wait=True)
            self._writer_thread = None

    def _commit(self, consumer: KafkaConsumer, positions: Positions) -> None:
        """Commit ``positions`` of the partitions this consumer still owns, where they moved since the last
        commit (a revoked partition's rows may still be written: its new owner rereads them, the lookup skips)."""
        assigned = consumer.assignment()
        offsets = {tp: o for tp, o in positions.items() if tp in assigned and self._committed.get(tp) != o}
        if offsets and _commit(consumer, {tp: OffsetAndMetadata(o, "", -1) for tp, o in offsets.items()}):
            self._committed.update(offsets)

    def run(
        self, *, until: Callable[[SinkStats], bool] | None = None, idle_timeout_s: float | None = None
    ) -> SinkStats:
        """Consume until ``stop()``, until ``until(stats)`` holds after a flush, or after an idle period."""
        consumer = self._consumer()
        tune_garbage_collector()
        last_message = time.monotonic()
        try:
            while not self._stop.is_set():
                polled = consumer.poll(timeout_ms=200)
                for tp, records in polled.items():
                    self._accept_batch(tp.topic, tp.partition, records)
                    self.stats.consumed += len(records)
                    metrics.consumed(tp.topic, len(records))
                if polled:
                    last_message = time.monotonic()
                    metrics.lag(consumer, polled)
                due = bool(self.buffers) and (self._due() or not polled)
                finished = self._in_flight is not None and (self._in_flight.written.done() or not polled or due)
                if finished:
                    self._finish_flush(consumer)
                if due:
                    self._start_flush()
                if not self.buffers and self._in_flight is None:
                    self._commit(consumer, self._positions)  # only invalid messages since the last batch
                if finished and until is not None and until(self.stats):
                    break
                if idle_timeout_s is not None and time.monotonic() - last_message > idle_timeout_s:
                    break
            self._finish_flush(consumer)
            if self.buffers:
                self._flush(consumer)
        finally:
            if self._in_flight is not None:  # leaving on an error: let a retrying write give up, commit nothing
                self._stop.set()
                self._in_flight.written.exception()
                self._in_flight = None
            self.close()
            consumer.close(autocommit=False)
        return self.stats


def _commit(consumer: KafkaConsumer, offsets: dict[TopicPartition, OffsetAndMetadata]) -> bool:
    """Commit these offsets; if the group is rebalancing, skip: the new owner of the partitions
    rereads from the last commit, and the writer skips the event ids already stored."""
    try:
        consumer.commit(offsets)
    except (CommitFailedError, RebalanceInProgressError, IllegalGenerationError, UnknownMemberIdError) as error:
        log.warning("offsets not committed (group rebalancing: %s); the next owner rereads them", error)
        return False
    return True
