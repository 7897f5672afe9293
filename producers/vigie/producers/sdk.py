"""The platform SDK: publish validated, pseudonymised learning events to Kafka.

Events are keyed by pupil pseudonym, so one pupil's events stay in order on one partition and
downstream state is co-partitioned. The producer is idempotent with ``acks=all``, compresses and
batches; ``publish`` returns a future (fire-and-forget with callbacks), ``publish_sync`` waits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError

from vigie.contract.codec import encode
from vigie.contract.events import AnswerSubmitted, SessionEnded, SessionStarted
from vigie.contract.topics import LEARNING_EVENTS
from vigie.errors import RetriableError
from vigie.settings import KafkaSettings

log = logging.getLogger(__name__)

PublishableEvent = AnswerSubmitted | SessionStarted | SessionEnded


class EventPublisher:
    """A long-lived publisher; one per platform process. Use as a context manager to flush on exit."""

    def __init__(self, kafka: KafkaSettings, *, linger_ms: int = 20, **producer_overrides: Any) -> None:
        self.topic = LEARNING_EVENTS.name(kafka.topic_prefix)
        config: dict[str, Any] = {
            "bootstrap_servers": kafka.bootstrap_servers,
            "acks": "all",
            "enable_idempotence": True,
            "compression_type": "lz4",
            "linger_ms": linger_ms,
            "batch_size": 256 * 1024,
            "max_in_flight_requests_per_connection": 5,
            "retries": 2**31 - 1,
            "client_id": "vigie-producer",
        }
        config.update(producer_overrides)
        try:
            self._producer = KafkaProducer(**config)
        except KafkaError as error:
            raise RetriableError(f"cannot reach Kafka at {kafka.bootstrap_servers}: {error}") from error
        self.sent = 0
        self.failed = 0

    def publish(
        self,
        event: PublishableEvent,
        *,
        on_success: Callable[[PublishableEvent], None] | None = None,
        on_error: Callable[[PublishableEvent, Exception], None] | None = None,
    ):
        """Queue one event (fire-and-forget); the callbacks run on the producer's I/O thread."""
        future = self._producer.send(self.topic, key=event.student_id.encode(), value=encode(event))
        future.add_callback(self._delivered, event, on_success)
        future.add_errback(self._undelivered, event, on_error)
        return future

    def publish_sync(self, event: PublishableEvent, timeout_s: float = 30.0):
        """Publish and wait for the broker's acknowledgement; returns the record metadata."""
        try:
            return self.publish(event).get(timeout=timeout_s)
        except KafkaError as error:
            raise RetriableError(f"publishing {event.event_id} failed: {error}") from error

    def flush(self, timeout_s: float | None = 60.0) -> None:
        self._producer.flush(timeout=timeout_s)

    def close(self) -> None:
        self._producer.flush()
        self._producer.close()

    def __enter__(self) -> EventPublisher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _delivered(self, event: PublishableEvent, callback, _metadata) -> None:
        self.sent += 1
        if callback is not None:
            callback(event)

    def _undelivered(self, event: PublishableEvent, callback, error: Exception) -> None:
        self.failed += 1
        log.error("event %s to %s not delivered: %s", event.event_id, self.topic, error)
        if callback is not None:
            callback(event, error)
