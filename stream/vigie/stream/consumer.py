"""Kafka's fetches as batches: the learning events go from a fetch to the pipeline whole, and none is skipped.

faust hands a fetch to its streams one message at a time (a ``Message`` object, two futures, a queue hop
and an ack each), and that per-message path loses messages. Read in faust-streaming 0.15.3:

- ``Consumer.getmany`` stops yielding a fetch when the group's generation changes, and drops the records
  of a partition that is paused at that moment, without seeking back: the client's position is already
  past them;
- ``_drain_messages`` drops the message it was handing over when the flow is suspended (a rebalance),
  yet records it as read;
- ``_new_offset`` accepts acknowledged offsets that start one past the committed offset
  (``min(acked) - committed > 1`` where the committed offset is the next one to read): the message at
  the commit point, if it was dropped, is committed over. A worker killed or joined mid-stream lost one
  answer in a few runs this way (offset 48 of 72 in the diagnosed run).

``BatchConsumer`` replaces that path for the source topics (the learning events). Each fetch goes to the
pipeline as one ``Delivery`` (raw aiokafka records, per partition); a partition whose records cannot be
delivered (paused, flow stopped, a hole before them) is sought back to the first offset not delivered;
offsets are acknowledged per delivery once its output is acknowledged; and nothing is committed past an
offset that was not acknowledged. A hole that comes back after ``HOLE_RETRIES`` seeks (records deleted by
retention before they were read) is accepted with a warning. Other topics (table changelogs during
recovery) keep faust's path, and faust keeps what it is good at: the group, assignment, tables,
changelogs, recovery and commits.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

log = logging.getLogger(__name__)

#: Deliveries fetched ahead of the pipeline (backpressure: the fetch loop waits beyond this).
DELIVERIES_AHEAD = 2
#: Seeks back to the same missing offset before the hole is taken as records gone (retention).
HOLE_RETRIES = 3


class InFlight:
    """A delivery not yet acknowledged. faust's revocation waits for these (``Consumer.wait_empty`` reads
    ``acked`` and ``refcount`` of its unacked set), so a partition is given up only after its batch is done."""

    __slots__ = ("__weakref__", "acked", "refcount")

    def __init__(self) -> None:
        self.acked = False
        self.refcount = 1


@dataclass(slots=True)
class Delivery:
    """The records of one fetch, by partition, in offset order."""

    generation: int
    partitions: dict[TP, list[Any]]
    inflight: InFlight = field(default_factory=InFlight)

    def __len__(self) -> int:
        return sum(len(records) for records in self.partitions.values())

    def records(self) -> Iterator[Any]:
        for records in self.partitions.values():
            yield from records


#: How long the broker may hold a fetch that has nothing yet (faust hard-codes 1.5 s). Measured: with 1.5 s,
#: answers at 300/s waited in bursts of 1.5 s (p50 1.2 s); with this, p50 137 ms, p99 285 ms on a loaded machine.
FETCH_MAX_WAIT_MS = 100


class _ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    """faust's consumer thread, with the broker's fetch wait bounded (``FETCH_MAX_WAIT_MS``)."""

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS
        return consumer


class BatchConsumer(faust_aiokafka.Consumer):
    """faust's aiokafka consumer, with the source topics delivered fetch by fetch (see the module's doc)."""

    #: Topic names whose records go to ``deliveries`` (set by the stream app before the worker starts).
    source_topics: frozenset[str] = frozenset()

    def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deliveries: asyncio.Queue[Delivery] = asyncio.Queue(maxsize=DELIVERIES_AHEAD)
        #: Next offset to deliver per source partition (None: take the first fetched, e.g. no commit yet).
        self._next_offset: dict[TP, int | None] = {}
        self._holes: dict[TP, tuple[int, int]] = {}
        #: Fetches dispatched (source records, or changelog records in recovery; a fetch sought back counts
        #: too): the stall watchdog's pulse, which only asks whether the loop still turns.
        self.deliveries_made = 0
        #: True once the fetch loop ended outside a shutdown (it is not restarted: the worker must be).
        self.fetch_loop_ended = False

    # -- positions ---------------------------------------------------------------------------------------

    async def perform_seek(self) -> None:
        await super().perform_seek()
        read = self._read_offset
        self._next_offset = {tp: read[tp] for tp in self.assignment() if tp.topic in self.source_topics}

    async def seek(self, partition: TP, offset: int) -> None:
        await super().seek(partition, offset)
        if partition.topic in self.source_topics:
            self._next_offset[partition] = offset

    async def _rewind(self, tp: TP, offset: int, why: str) -> None:
        """Fetch ``tp`` again from ``offset`` (if still ours: otherwise its next owner starts at the commit)."""
        if tp not in self.assignment():
            return
        log.info("seeking %s[%d] back to %d: %s", tp.topic, tp.partition, offset, why)
        try:
            await self.seek(tp, offset)
        except Exception as error:  # revoked in between: the commit point is below ``offset`` anyway
            log.warning("could not seek %s[%d] back to %d: %r", tp.topic, tp.partition, offset, error)

    def _hole_is_final(self, tp: TP, expected: int, first: int) -> bool:
        """True once the same hole came back ``HOLE_RETRIES`` times (records gone before they were read)."""
        seen, tries = self._holes.get(tp, (-1, 0))
        tries = tries + 1 if seen == expected else 1
        self._holes[tp] = (expected, tries)
        if tries < HOLE_RETRIES:
            return False
        log.warning(
            "%s[%d]: offsets %d..%d are gone from the log (retention?) after %d seeks: going on from %d",
            tp.topic, tp.partition, expected, first - 1, tries, first,
        )  # fmt: skip
        del self._holes[tp]
        return True

    # -- the fetch loop ----------------------------------------------------------------------------------

    async def _drain_messages(self, fetcher: Any) -> None:  # faust's loop, run by its Fetcher service
        if not self.source_topics:
            await super()._drain_messages(fetcher)
            return
        consumer_stopped = cast(Any, self)._stopped.is_set
        fetcher_stopped = fetcher._stopped.is_set
        commit_every = self._commit_every
        self.fetch_loop_ended = False
        try:
            while not (consumer_stopped() or fetcher_stopped()):
                records, active = await self._wait_next_records(1.0)
                await self.sleep(0)
                if not records or self.should_stop:
                    continue
                if not self.flow_active:  # a rebalance began after the fetch: faust's own answer
                    await self._back_to_committed()
                    continue
                await self._dispatch(records, active)
                self.deliveries_made += 1
                if commit_every is not None and self._n_acked >= commit_every:
                    self._n_acked = 0
                    await self.commit()
        except self.consumer_stopped_errors:
            if not self.transport.app.should_stop:
                log.exception("the fetch loop stopped: the broker stopped the consumer")
                raise
        except asyncio.CancelledError:
            if not self.transport.app.should_stop:
                log.error("the fetch loop was cancelled outside a shutdown: nothing is fetched any more")
                raise
        except Exception:
            log.exception("the fetch loop failed: nothing is fetched any more")
            raise
        finally:
            self.fetch_loop_ended = not self.transport.app.should_stop

    async def _back_to_committed(self) -> None:
        """Every partition back to its commit point (faust's answer to a fetch that a rebalance overtook).

        Mid-rebalance the seek can fail (no assignment yet, a partition revoked meanwhile): the next
        assignment seeks again, so the failure is logged and the loop goes on, as faust's own loop does —
        an exception here used to end the fetch loop, and the worker stopped reading without a word.
        """
        try:
            await self.perform_seek()
        except Exception as error:
            log.warning("could not seek back to the committed offsets during a rebalance: %r", error)

    async def _dispatch(self, records: Mapping[TP, list[Any]], active: set[TP] | None) -> None:
        generation = self.app.consumer_generation_id
        delivered: dict[TP, list[Any]] = {}
        for tp, tp_records in records.items():
            if not tp_records:
                continue
            if tp.topic not in self.source_topics:
                await self._one_by_one(tp, tp_records)
                continue
            first = tp_records[0].offset
            if active is not None and tp not in active and tp not in self._buffered_partitions:
                await self._rewind(tp, first, "fetched while the partition was paused")
                continue
            expected = self._next_offset.get(tp)
            if expected is not None and first > expected and not self._hole_is_final(tp, expected, first):
                await self._rewind(tp, expected, f"the fetch starts at {first}")
                continue
            if expected is not None and first > expected:
                await self._add_gap(tp, expected, first - 1)
            last = tp_records[-1].offset
            if last - first + 1 != len(tp_records):  # offsets without a record (control records)
                await self._gaps_within(tp, tp_records)
            delivered[tp] = tp_records
            self._next_offset[tp] = last + 1
            self._read_offset[tp] = last
            self.app.monitor.track_tp_end_offset(tp, self.highwater(tp))
        if delivered:
            delivery = Delivery(generation, delivered)
            self._unacked_messages.add(cast(Any, delivery.inflight))
            await self.deliveries.put(delivery)

    async def _gaps_within(self, tp: TP, records: list[Any]) -> None:
        previous = records[0].offset
        for record in records[1:]:
            if record.offset > previous + 1:
                await self._add_gap(tp, previous + 1, record.offset - 1)
            previous = record.offset

    async def _one_by_one(self, tp: TP, records: list[Any]) -> None:
        """faust's per-message path, for the topics that are not sources (table changelogs in recovery)."""
        acks_enabled = self.app.topics.acks_enabled_for(tp.topic)
        for record in records:
            message = self._to_message(tp, record)
            offset, read = message.offset, self._read_offset[tp]
            if read is not None and offset < read:
                continue
            if read is not None and offset - read > 1 and acks_enabled:
                await self._add_gap(tp, read + 1, offset)
            await self.wait_first(self.callback(message), self.suspend_flow.wait())
            self._read_offset[tp] = offset

    # -- acknowledgements and commits --------------------------------------------------------------------

    def acknowledge(self, delivery: Delivery, partitions: Mapping[TP, list[Any]] | None = None) -> None:
        """Mark the records of ``partitions`` (default: all of the delivery's) as done, then the delivery."""
        for tp, records in (delivery.partitions if partitions is None else partitions).items():
            committed = self._committed_offset[tp]
            index, acked = self._acked_index[tp], self._acked[tp]
            for record in records:
                offset = record.offset
                if (committed is None or offset >= committed) and offset not in index:
                    index.add(offset)
                    acked.append(offset)
                    self._n_acked += 1
        self.release(delivery)

    def release(self, delivery: Delivery) -> None:
        """The delivery is finished with, acknowledged or not (a revoked partition's records are not)."""
        delivery.inflight.acked = True
        self._unacked_messages.discard(cast(Any, delivery.inflight))

    def _new_offset(self, tp: TP) -> int | None:
        """faust's, without its off-by-one: never past an offset right after the commit point that is not
        acknowledged (faust accepts ``min(acked) == committed + 1`` and commits over ``committed``)."""
        if tp.topic in self.source_topics and not self._gap[tp]:
            acked, committed = self._acked[tp], self._committed_offset[tp]
            if acked and committed is not None and min(acked) > committed:
                return None
        return super()._new_offset(tp)


class BatchTransport(faust_aiokafka.Transport):
    """The aiokafka transport whose consumer delivers ``source_topics`` fetch by fetch."""

    Consumer = BatchConsumer
    source_topics: frozenset[str] = frozenset()

    def create_consumer(self, callback: Any, **kwargs: Any) -> Any:
        consumer = cast(BatchConsumer, super().create_consumer(callback, **kwargs))
        consumer.source_topics = self.source_topics
        return consumer


def use_batch_consumer(app: Any, source_topics: frozenset[str]) -> None:
    """Give the faust ``app`` a transport whose consumer delivers ``source_topics`` as batches."""
    transport = BatchTransport(app.conf.broker_consumer, app)
    transport.source_topics = source_topics
    app.transport = transport
