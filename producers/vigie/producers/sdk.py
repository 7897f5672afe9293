"""The platform SDK: publish validated, pseudonymised learning events to Kafka.

Events are keyed by pupil pseudonym, so one pupil's events stay in order on one partition and
downstream state is co-partitioned. The producer is idempotent with ``acks=all``, compresses with
lz4 and batches; ``publish`` returns a future (fire-and-forget with delivery callbacks),
``publish_sync`` waits for the broker's acknowledgement.

Most platforms want ``VigieProducer``: it builds events from RAW ids (``Pupil``) and pseudonymises
them with the academy's key before anything is encoded, so raw ids never reach Kafka::

    with VigieProducer(VigieSettings(), platform="mathix") as vigie:
        pupil = Pupil(academy="lyon", school_uai="0691234A", student="ent-48213", school_class="cm1-b", level="CM1")
        vigie.publish(vigie.events.answer(pupil, source_event_id="attempt-991", session_id="s-12",
                                          skill_code="C3-MA-NOM-01", item_id="q-17", correct=True,
                                          response_time_ms=8400))
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError

from vigie.core.contract.codec import MAX_EVENT_BYTES, encode
from vigie.core.contract.events import AnswerSubmitted, DeadLetter, ErasureRequested, SessionEnded, SessionStarted
from vigie.core.errors import InvalidEventError, RetriableError
from vigie.core.settings import KafkaSettings, VigieSettings
from vigie.core.topics import DEAD_LETTERS, LEARNING_EVENTS
from vigie.producers.builder import EventBuilder, Pupil

log = logging.getLogger(__name__)

PublishableEvent = AnswerSubmitted | SessionStarted | SessionEnded | ErasureRequested
_PUBLISHABLE = (AnswerSubmitted, SessionStarted, SessionEnded, ErasureRequested)

__all__ = ["EventBuilder", "EventPublisher", "PublishableEvent", "Pupil", "VigieProducer"]


class EventPublisher:
    """A long-lived publisher; one per platform process. Use as a context manager to flush on exit."""

    def __init__(self, kafka: KafkaSettings, *, linger_ms: int = 20, **producer_overrides: Any) -> None:
        self.topic = LEARNING_EVENTS.name(kafka.topic_prefix)
        self.dead_letter_topic = DEAD_LETTERS.name(kafka.topic_prefix)
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
        """Queue one event (fire-and-forget); the callbacks run on the producer's I/O thread.

        Raises ``InvalidEventError`` at once for something that is not a contract event or is too
        large, and ``RetriableError`` when Kafka cannot take it (no metadata, buffer full).
        """
        if not isinstance(event, _PUBLISHABLE):
            raise InvalidEventError(
                f"expected AnswerSubmitted, SessionStarted, SessionEnded or ErasureRequested, got "
                f"{type(event).__name__} (build events with VigieProducer.events or EventBuilder)",
                field="event",
            )
        value = encode(event)
        if len(value) > MAX_EVENT_BYTES:
            raise InvalidEventError(f"encoded event of {len(value)} bytes exceeds {MAX_EVENT_BYTES}", field="event")
        try:
            future = self._producer.send(self.topic, key=event.student_id.encode(), value=value)
        except KafkaError as error:
            raise RetriableError(
                f"Kafka did not take event {event.event_id} for {self.topic} (is the broker up and "
                f"the topic created? `vigie kafka start` creates it): {error}",
                code=type(error).__name__,
            ) from error
        future.add_callback(self._delivered, event, on_success)
        future.add_errback(self._undelivered, event, on_error)
        return future

    def publish_sync(self, event: PublishableEvent, timeout_s: float = 30.0):
        """Publish and wait for the broker's acknowledgement; returns the record metadata.

        The batch is sent at once rather than after ``linger_ms`` (which also sends whatever
        fire-and-forget events wait in the buffer).
        """
        try:
            future = self.publish(event)
            self._producer.flush(timeout=timeout_s)
            return future.get(timeout=timeout_s)
        except KafkaError as error:
            raise RetriableError(f"publishing {event.event_id} failed: {error}", code=type(error).__name__) from error

    def publish_dead_letter(self, letter: DeadLetter):
        """Queue a rejected input, with its reason, on the dead-letter topic (keyed by its original key)."""
        key = letter.key.encode() if letter.key is not None else None
        return self._producer.send(self.dead_letter_topic, key=key, value=encode(letter))

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


class VigieProducer:
    """A platform's one object: ``events`` builds pseudonymised events from raw ids, ``publish`` sends.

    Keys come from ``settings.privacy`` (one secret per academy); with ``VIGIE_PRIVACY__PRODUCTION=true``
    the development key is refused. One instance per process; close it (or use ``with``) to flush.
    """

    def __init__(self, settings: VigieSettings, platform: str, **producer_overrides: Any) -> None:
        self.events = EventBuilder(platform, settings.privacy)
        self.publisher = EventPublisher(settings.kafka, **producer_overrides)

    def publish(
        self,
        event: PublishableEvent,
        *,
        on_success: Callable[[PublishableEvent], None] | None = None,
        on_error: Callable[[PublishableEvent, Exception], None] | None = None,
    ):
        """Fire-and-forget: returns a future; callbacks report delivery or failure."""
        return self.publisher.publish(event, on_success=on_success, on_error=on_error)

    def publish_sync(self, event: PublishableEvent, timeout_s: float = 30.0):
        """Wait until the broker acknowledged the event (all in-sync replicas); returns its metadata."""
        return self.publisher.publish_sync(event, timeout_s)

    def flush(self, timeout_s: float | None = 60.0) -> None:
        self.publisher.flush(timeout_s)

    def close(self) -> None:
        self.publisher.close()

    def __enter__(self) -> VigieProducer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
