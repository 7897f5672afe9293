"""The pipeline agent: the stream's entrance, then every per-pupil processor, then the outputs.

Events are taken in batches (``take_events`` with a ``within`` bound) so that state is read and
written once per pupil per batch, not once per answer. Invalid messages go to the dead-letter
topic with the reason and the original bytes, and the stream carries on. The batch's emissions, dead
letters and table changelog records are produced together (``vigie.stream.emit``), and acknowledged
before the next batch is taken.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from typing import NoReturn

from faust.types import EventT

from vigie.core.contract.codec import dead_letter, decode_learning_event, encode
from vigie.core.contract.events import LearningEvent
from vigie.core.errors import InvalidEventError
from vigie.core.topics import DEAD_LETTERS, LEARNING_EVENTS
from vigie.stream import metrics
from vigie.stream.app import StreamApp
from vigie.stream.readiness import wait_for_output_metadata

log = logging.getLogger(__name__)

#: Exit status of a worker that stopped on a failed batch (EX_SOFTWARE).
EXIT_BATCH_FAILED = 70


def split_valid(app: StreamApp, batch: Sequence[EventT]) -> tuple[list[LearningEvent], list[tuple[bytes, bytes]]]:
    """Decode a batch: valid events in order, and (key, dead-letter bytes) for the rest."""
    valid: list[LearningEvent] = []
    rejected: list[tuple[bytes, bytes]] = []
    for event in batch:
        message = event.message
        try:
            valid.append(decode_learning_event(message.value))
        except InvalidEventError as error:
            metrics.dead_letter(error.field)
            log.warning("dead-lettering %s[%s]@%s: %s", message.topic, message.partition, message.offset, error)
            letter = dead_letter(
                topic=message.topic,
                partition=message.partition,
                offset=message.offset,
                key=message.key,
                value=message.value,
                error=error,
            )
            rejected.append((message.key or b"", encode(letter)))
    return valid, rejected


def die_without_ack(batch: Sequence[EventT], error: Exception) -> NoReturn:
    """End the process at once, so that nothing acknowledges or commits the failed batch.

    faust's ``take_events`` acks a batch's events when its generator closes, even when the body raised:
    a failed batch would be committed and its answers lost. Exiting here keeps at-least-once — the
    worker's supervisor restarts it and the batch is delivered again. A processor bug that always fails
    on the same event therefore crash-loops visibly instead of losing data.
    """
    first, last = batch[0].message, batch[-1].message
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
    settings = app.settings.stream
    source = app.topic(LEARNING_EVENTS)
    dlq, names, outbox = app.names[DEAD_LETTERS], app.names, app.outbox

    @app.app.agent(source, name="pipeline")
    async def pipeline(stream):
        await wait_for_output_metadata(app)
        async for batch in stream.take_events(settings.batch_size, within=settings.batch_within_s):
            started = time.perf_counter()
            try:
                valid, rejected = split_valid(app, batch)
                for key, value in rejected:
                    outbox.add(dlq, key, value)
                for processor in app.processors:
                    for emission in processor.process(valid):
                        outbox.add(names[emission.topic], emission.key.encode(), encode(emission.event))
                # The batch's offsets are acked when the next batch is taken: its output is acknowledged by then.
                records = outbox.drain()
                await app.emitter.send_and_wait(records, outbox.state_topics)
                metrics.batch_done(app.app, batch, records, started)
            except Exception as error:  # a shutdown's cancellation is not caught: its sends are already queued
                die_without_ack(batch, error)
