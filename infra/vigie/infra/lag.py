"""Consumer lag per partition of a consumer group: how far the sink or the stream is behind the topics."""

from __future__ import annotations

import socket
from dataclasses import dataclass

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from vigie.core.errors import RetriableError


@dataclass(frozen=True)
class PartitionLag:
    topic: str
    partition: int
    committed: int
    end: int

    @property
    def lag(self) -> int:
        return max(0, self.end - self.committed)


def reachable(bootstrap: str, timeout_s: float = 2.0) -> bool:
    """Whether one of the bootstrap servers accepts a TCP connection (quick: no client's retry loop)."""
    for server in bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            socket.create_connection((host.strip("[]") or "localhost", int(port)), timeout=timeout_s).close()
        except (OSError, ValueError):
            continue
        return True
    return False


def group_lag(bootstrap: str, group_id: str, *, timeout_s: float = 5.0) -> list[PartitionLag]:
    """The committed offset and the end offset of every partition ``group_id`` has committed on."""
    timeout_ms = int(timeout_s * 1000)
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=timeout_ms, client_id="vigie-status")
        try:
            committed = admin.list_group_offsets({group_id: None}).get(group_id, {})
        finally:
            admin.close()
        if not committed:
            return []
        consumer = KafkaConsumer(bootstrap_servers=bootstrap, request_timeout_ms=timeout_ms, client_id="vigie-status")
        try:
            ends = consumer.end_offsets(list(committed))
        finally:
            consumer.close()
    except KafkaError as error:
        raise RetriableError(f"Kafka at {bootstrap} did not answer: {error}") from error
    partitions: list[TopicPartition] = sorted(committed, key=lambda tp: (tp.topic, tp.partition))
    return [PartitionLag(tp.topic, tp.partition, committed[tp].offset, ends.get(tp, 0)) for tp in partitions]
