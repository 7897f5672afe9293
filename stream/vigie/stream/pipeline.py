"""The pipeline: the stream's entrance, then every per-pupil processor, then the outputs.

Each fetch of the learning events arrives whole (``vigie.stream.consumer``: raw records, by partition,
none skipped), so state is read and written once per pupil per batch, not once per answer. The batch's
emissions, dead letters and table changelog records are produced together (``vigie.stream.emit``); its
offsets are acknowledged once they are (at least once), and only for partitions still assigned to this
worker: the records of a partition given up meanwhile are left to its next owner. The next fetch is
processed while the broker acknowledges the previous one's records (``Emitter.submit``).

Nothing a producer sends can stop the stream. Every message ends as a processed event or a dead letter:

- a message that is not a valid event (tombstone, oversize, any bytes) is dead-lettered with the reason;
- so is a valid event whose Kafka key is not its pupil's pseudonym: processed on whichever partition it
  landed, it would split the pupil's state across partitions (a repartition topic could re-key it, but
  a producer that keys wrongly has a bug to fix, and the dead letter tells it so);
- an event that makes a processor raise: what the processor changed in the batch is rolled back
  (``Outbox.checkpoint``/``rollback``), its table writes and the data it keeps in memory alike (the
  signals engine's item times, class activity and watermarks: both are journalled in the outbox,
  ``vigie.stream.undo``), so that no event of the batch is counted twice; the batch is replayed through
  that processor one event at a time, each event tried ``PROCESS_ATTEMPTS`` times (each failed attempt
  rolled back the same way); the ones that still fail are dead-lettered with the error, every other
  event is processed, and the worker goes on.

Dead letters hold no raw identifier (``vigie.stream.deadletters``) and always fit the broker. Only a
failure to produce the batch's output (the broker refusing for longer than the producer's retries)
still ends the worker without acknowledging the batch, so that it is delivered again after a restart.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Sequence
from typing import Any, NoReturn, cast

from vigie.core.contract.codec import decode_learning_event, encode
from vigie.core.contract.events import LearningEvent
from vigie.core.errors import InvalidEventError, VigieError
from vigie.core.topics import DEAD_LETTERS, LEARNING_EVENTS
from vigie.stream import metrics
from vigie.stream.app import StreamApp
from vigie.stream.consumer import BatchConsumer, Delivery
from vigie.stream.deadletters import DeadLetterWriter
from vigie.stream.emit import Outbox
from vigie.stream.processor import PupilProcessor
from vigie.stream.readiness import wait_for_output_metadata

log = logging.getLogger(__name__)

#: Exit status of a worker that stopped on a failed batch (EX_SOFTWARE).
EXIT_BATCH_FAILED = 70


#: Tries of one event in one processor, once the batch it came in failed, before it is dead-lettered.
PROCESS_ATTEMPTS = 3


class ProcessingError(VigieError):
    """A valid event that made a processor raise on every attempt (its dead letter's error)."""


Accepted = tuple[LearningEvent, Any]  # (event, its Kafka record)


def split_valid(batch: Sequence[Any], letters: DeadLetterWriter) -> tuple[list[Accepted], list[tuple[bytes, bytes]]]:
    """Decode a batch of Kafka records: valid events (with their record) in order, and (key, dead-letter
    bytes) for the rest."""
    valid: list[Accepted] = []
    rejected: list[tuple[bytes, bytes]] = []
    for message in batch:
        try:
            decoded = decode_learning_event(message.value)
            pupil = decoded.student_id.encode()
            if message.key != pupil:
                raise InvalidEventError("the message key is not the pupil's pseudonym (student_id)", field="key")
        except InvalidEventError as error:
            rejected.append(reject(message, error, letters))
            continue
        valid.append((decoded, message))
    return valid, rejected


def reject(message: Any, error: Exception, letters: DeadLetterWriter) -> tuple[bytes, bytes]:
    """(key, bytes) of the dead letter of ``message``, redacted."""
    metrics.dead_letter(error)
    log.warning("dead-lettering %s[%s]@%s: %s", message.topic, message.partition, message.offset, error)
    letter = letters.letter(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        key=message.key,
        value=message.value,
        error=error,
    )
    return (letter.key or "").encode(), encode(letter)


def run_processors(
    processors: Sequence[PupilProcessor], valid: list[Accepted], outbox: Outbox, names: dict[Any, str]
) -> dict[int, list[tuple[str, Exception]]]:
    """Apply every processor to the batch; return, by index in ``valid``, the processors that failed on it.

    A processor that raises on the batch is undone and replayed event by event (see the module's doc).
    """
    failures: dict[int, list[tuple[str, Exception]]] = {}
    events = [event for event, _ in valid]
    for processor in processors:
        point = outbox.checkpoint()
        try:
            _emit(processor, events, outbox, names)
            continue
        except Exception as error:
            outbox.rollback(point)
            log.error(
                "processor %s failed on a batch of %d events (%r): replaying them one by one",
                processor.name,
                len(events),
                error,
            )
        for index, (event, message) in enumerate(valid):
            last: Exception | None = None
            for _ in range(PROCESS_ATTEMPTS):
                point = outbox.checkpoint()
                try:
                    _emit(processor, [event], outbox, names)
                    last = None
                    break
                except Exception as error:
                    outbox.rollback(point)
                    last = error
            if last is not None:
                log.error(
                    "processor %s failed %d times on %s[%s]@%s: %r",
                    processor.name,
                    PROCESS_ATTEMPTS,
                    message.topic,
                    message.partition,
                    message.offset,
                    last,
                )
                failures.setdefault(index, []).append((processor.name, last))
    return failures


def _emit(processor: PupilProcessor, events: list[LearningEvent], outbox: Outbox, names: dict[Any, str]) -> None:
    for emission in processor.process(events):
        outbox.add(names[emission.topic], emission.key.encode(), emission.value())


def processing_error(failed: list[tuple[str, Exception]]) -> ProcessingError:
    reasons = "; ".join(f"processor {name} raised {type(error).__name__}: {error}" for name, error in failed)
    return ProcessingError(f"{reasons} ({PROCESS_ATTEMPTS} attempts)")


def die_without_ack(batch: Sequence[Any], error: BaseException) -> NoReturn:
    """End the process at once, so that nothing acknowledges or commits the failed batch.

    Exiting keeps at-least-once — the worker's supervisor restarts it and the batch is delivered again —
    and leaves no half-written state behind in this process.
    """
    first, last = batch[0], batch[-1]
    log.critical(
        "batch failed, exiting without commit (%s[%s]@%s .. %s[%s]@%s): %r",
        first.topic,
        first.partition,
        first.offset,
        last.topic,
        last.partition,
        last.offset,
        error,
        exc_info=error,
    )
    logging.shutdown()
    os._exit(EXIT_BATCH_FAILED)


def register_pipeline(app: StreamApp) -> None:
    source = app.topic(LEARNING_EVENTS)
    letters = DeadLetterWriter(app.settings.privacy)

    # The agent subscribes the worker to the learning events (faust's group, assignment and co-partitioned
    # tables follow it); their records reach it through the consumer's deliveries, not through its stream.
    @app.app.agent(source, name="pipeline")
    async def pipeline(stream: Any) -> None:
        await wait_for_output_metadata(app)
        consumer = cast(BatchConsumer, app.app.consumer)
        while True:
            delivery = await consumer.deliveries.get()
            await process_delivery(app, consumer, delivery, letters)


async def process_delivery(
    app: StreamApp, consumer: BatchConsumer, delivery: Delivery, letters: DeadLetterWriter
) -> None:
    """Process one fetch and hand its records to the emitter; the delivery is acknowledged once they are
    (or the worker ends without acknowledging it). Returns as soon as the next fetch may be processed."""
    names, outbox = app.names, app.outbox
    dlq = names[DEAD_LETTERS]
    assigned = consumer.assignment()
    partitions = {tp: records for tp, records in delivery.partitions.items() if tp in assigned}
    batch = [record for records in partitions.values() for record in records]
    if not batch:  # every partition of the fetch was given up meanwhile: their next owner reads them
        consumer.release(delivery)
        return
    started = time.perf_counter()
    try:
        valid, rejected = split_valid(batch, letters)
        for key, value in rejected:
            outbox.add(dlq, key, value)
        failures = run_processors(app.processors, valid, outbox, names)
        for index, failed in sorted(failures.items()):
            outbox.add(dlq, *reject(valid[index][1], processing_error(failed), letters))
        records = outbox.drain()
        done = await app.emitter.submit(records, outbox.state_topics)
    except Exception as error:  # a shutdown's cancellation is not caught: its sends are already queued
        die_without_ack(batch, error)

    def acknowledge(done: asyncio.Future[None]) -> None:
        if done.cancelled():  # the worker is shutting down: the batch is delivered again after it
            return
        error = done.exception()
        if error is not None:
            die_without_ack(batch, error)
        consumer.acknowledge(delivery, partitions)
        metrics.batch_done(consumer, partitions, records, started)

    done.add_done_callback(acknowledge)
