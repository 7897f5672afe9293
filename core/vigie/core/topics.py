"""Every Kafka topic of Vigie, its key, its settings, its partitioner and its creation: here and nowhere else.

Pupil-keyed topics share one partition count so that a pupil's events, state and outputs live on the
same partition number (co-partitioning): workers scale by partitions. Kafka is transit, ClickHouse is
history: retention here only covers replays and outages.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from kafka import KafkaAdminClient
from kafka.errors import KafkaError, TopicAlreadyExistsError
from kafka.partitioner.default import murmur2

from vigie.core.errors import RetriableError
from vigie.core.settings import KafkaSettings

log = logging.getLogger(__name__)

DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """One topic: ``suffix`` is appended to the configured prefix (isolation of tests and tenants)."""

    suffix: str
    key: str
    description: str
    pupil_keyed: bool = True
    compacted: bool = False
    retention_days: int | None = 7
    extra_config: tuple[tuple[str, str], ...] = ()

    def name(self, prefix: str) -> str:
        return f"{prefix}.{self.suffix}"

    def config(self) -> dict[str, str]:
        settings = {"cleanup.policy": "compact" if self.compacted else "delete"}
        if self.retention_days is not None and not self.compacted:
            settings["retention.ms"] = str(self.retention_days * DAY_MS)
        if self.compacted:
            settings["min.cleanable.dirty.ratio"] = "0.1"
        return settings | dict(self.extra_config)


LEARNING_EVENTS = TopicSpec(
    "learning-events.v1", key="student_id", description="Answers and session start/end, from platforms."
)
MASTERY_UPDATES = TopicSpec("mastery-updates.v1", key="student_id", description="Mastery estimate after each answer.")
SIGNALS = TopicSpec(
    "signals.v1", key="student_id", description="Dropout signals: raised, changed, cleared.", retention_days=30
)
SKILL_PARAMETERS = TopicSpec(
    "skill-parameters.v1",
    key="skill_code",
    description="Latest calibrated BKT parameters per skill.",
    pupil_keyed=False,
    compacted=True,
    retention_days=None,
)
DEAD_LETTERS = TopicSpec(
    "dead-letters.v1",
    key="source key",
    description="Rejected inputs with reason and original bytes.",
    pupil_keyed=False,
    retention_days=30,
)

RAW_STATEMENTS = TopicSpec(
    "raw-statements.v1",
    key="statement id",
    description="Valid xAPI statements the gateway kept without an event (pseudonymised), with the reason.",
    pupil_keyed=False,
    retention_days=30,
)

ALL_TOPICS: tuple[TopicSpec, ...] = (
    LEARNING_EVENTS, MASTERY_UPDATES, SIGNALS, SKILL_PARAMETERS, DEAD_LETTERS, RAW_STATEMENTS,
)  # fmt: skip


def partitions_of(spec: TopicSpec, pupil_partitions: int) -> int:
    """Pupil-keyed topics get the configured count; the others are small."""
    return pupil_partitions if spec.pupil_keyed else 1


def key_hash(key: bytes) -> int:
    """Kafka's default partitioner hash (the Java client, kafka-python and aiokafka agree): positive murmur2."""
    return int(murmur2(key)) & 0x7FFFFFFF


def partition_of(key: bytes, partitions: int) -> int:
    """The partition of ``key`` among ``partitions`` (sorted partition ids), as every Kafka producer places it.

    Producers, the stream's outputs and its table changelogs all place a pupil with this one rule, so a
    pupil's events, state and outputs share a partition number (co-partitioning).
    """
    return key_hash(key) % partitions


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
