"""Synchronous, bounded produce: the gateway answers 200 only once Kafka holds every record.

Records of one request are sent together (``acks=all``, idempotent producer) and the request waits
for all acknowledgements up to ``timeout_s``; a broker that is down, slow or refusing raises
``RetriableError`` and the gateway answers 503 with ``Retry-After`` — never accepted-then-lost. A
retry after a partial send produces some records twice with the same event ids, which the stream and
the sink deduplicate.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError

from vigie.core.contract.codec import encode
from vigie.core.contract.events import StatementKept
from vigie.core.errors import RetriableError
from vigie.core.settings import KafkaSettings
from vigie.core.topics import LEARNING_EVENTS, RAW_STATEMENTS
from vigie.producers.sdk import PublishableEvent

log = logging.getLogger(__name__)


class GatewayPublisher:
    """One producer per gateway process, shared by the request threads (kafka-python's is thread-safe)."""

    def __init__(self, kafka: KafkaSettings, *, timeout_s: float = 5.0, **overrides: Any) -> None:
        self.events_topic = LEARNING_EVENTS.name(kafka.topic_prefix)
        self.raw_topic = RAW_STATEMENTS.name(kafka.topic_prefix)
        self.timeout_s = timeout_s
        config: dict[str, Any] = {
            "bootstrap_servers": kafka.bootstrap_servers,
            "acks": "all",
            "enable_idempotence": True,
            "compression_type": "lz4",
            "linger_ms": 2,
            "max_block_ms": int(timeout_s * 500),
            "request_timeout_ms": int(timeout_s * 1000),
            "delivery_timeout_ms": int(timeout_s * 1000) + 2,
            "client_id": "vigie-gateway",
        }
        config.update(overrides)
        try:
            self._producer = KafkaProducer(**config)
        except KafkaError as error:
            raise RetriableError(
                f"cannot reach Kafka at {kafka.bootstrap_servers}: {error}", code=type(error).__name__
            ) from error

    def send(self, events: list[PublishableEvent], kept: list[StatementKept]) -> None:
        """Send and wait for every acknowledgement (bounded); ``RetriableError`` if any is missing."""
        if not events and not kept:
            return
        deadline = time.monotonic() + self.timeout_s
        try:
            futures = [
                self._producer.send(self.events_topic, key=e.student_id.encode(), value=encode(e)) for e in events
            ]
            futures += [self._producer.send(self.raw_topic, key=k.statement_id.bytes, value=encode(k)) for k in kept]
            # no flush(): it would also wait for the other requests' records; linger_ms (2 ms) sends these soon
            for future in futures:
                future.get(timeout=max(0.001, deadline - time.monotonic()))
        except KafkaError as error:
            log.warning(
                "Kafka did not take %d records within %.1fs: %s", len(events) + len(kept), self.timeout_s, error
            )
            raise RetriableError(
                f"Kafka did not acknowledge the records: {error}", code=type(error).__name__
            ) from error

    def close(self) -> None:
        self._producer.close(timeout=self.timeout_s)
