"""Where simulated events go: a JSON-lines file for replay, or Kafka through the SDK, at a chosen pace."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TypeVar

from vigie.core.contract.codec import decode_learning_event, encode
from vigie.producers.sdk import EventPublisher
from vigie.producers.simulator.simulation import SimEvent

log = logging.getLogger(__name__)
T = TypeVar("T")


def paced(
    items: Iterable[T],
    rate: float | None,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[T]:
    """Yield items no faster than ``rate`` per second (None or <= 0: as fast as possible)."""
    if not rate or rate <= 0:
        yield from items
        return
    began = clock()
    for n, item in enumerate(items):
        ahead = began + n / rate - clock()
        if ahead > 0:
            sleep(ahead)
        yield item


def write_jsonl(events: Iterable[SimEvent], path: Path, *, on_event: Callable[[SimEvent], None] | None = None) -> int:
    """Write one encoded event per line; returns how many were written."""
    count = 0
    with path.open("wb") as sink:
        for event in events:
            sink.write(encode(event) + b"\n")
            count += 1
            if on_event is not None:
                on_event(event)
    return count


def read_jsonl(path: Path) -> Iterator[SimEvent]:
    """Replay a file written by ``write_jsonl``: every line is validated against the contract again."""
    with path.open("rb") as source:
        for line in source:
            if line.strip():
                yield decode_learning_event(line.rstrip(b"\n"))  # type: ignore[misc]


def publish(
    events: Iterable[SimEvent], publisher: EventPublisher, *, on_event: Callable[[SimEvent], None] | None = None
) -> int:
    """Queue every event on the publisher (keyed by pupil) and flush; returns how many were queued.

    Delivery failures are counted by the publisher (``publisher.failed``)."""
    count = 0
    for event in events:
        publisher.publish(event)
        count += 1
        if on_event is not None:
            on_event(event)
    publisher.flush()
    log.info(
        "queued %d simulated events on %s (%d delivered, %d failed)",
        count,
        publisher.topic,
        publisher.sent,
        publisher.failed,
    )
    return count
