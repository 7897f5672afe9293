"""Create Vigie's topics, as declared in ``vigie.contract.topics``, with kafka-python's admin client."""

from __future__ import annotations

import logging

from kafka import KafkaAdminClient
from kafka.errors import KafkaError, TopicAlreadyExistsError

from vigie.contract.topics import ALL_TOPICS, TopicSpec, partitions_of
from vigie.errors import RetriableError
from vigie.settings import KafkaSettings

log = logging.getLogger(__name__)


def ensure_topics(kafka: KafkaSettings, specs: tuple[TopicSpec, ...] = ALL_TOPICS) -> list[str]:
    """Create the missing topics; return the names created. Idempotent."""
    try:
        admin = KafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers, request_timeout_ms=15000)
    except KafkaError as error:
        raise RetriableError(f"cannot reach Kafka at {kafka.bootstrap_servers}: {error}") from error
    try:
        existing = set(admin.list_topics())
        wanted = {
            spec.name(kafka.topic_prefix): {
                "num_partitions": partitions_of(spec, kafka.partitions),
                "replication_factor": kafka.replication_factor,
                "configs": spec.config(),
            }
            for spec in specs
            if spec.name(kafka.topic_prefix) not in existing
        }
        if wanted:
            try:
                admin.create_topics(wanted, timeout_ms=15000, wait_for_metadata=True)
            except TopicAlreadyExistsError:
                log.info("topics were created concurrently: %s", sorted(wanted))
            log.info("created topics %s", sorted(wanted))
        return sorted(wanted)
    finally:
        admin.close()
