"""Every Kafka topic of Vigie, its key and its settings, declared here and nowhere else.

Pupil-keyed topics share one partition count so that a pupil's events, state and outputs live on the
same partition number (co-partitioning): workers scale by partitions. Kafka is transit, ClickHouse is
history: retention here only covers replays and outages.
"""

from __future__ import annotations

from dataclasses import dataclass

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
MASTERY_UPDATES = TopicSpec(
    "mastery-updates.v1", key="student_id", description="Mastery estimate after each answer."
)
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

ALL_TOPICS: tuple[TopicSpec, ...] = (LEARNING_EVENTS, MASTERY_UPDATES, SIGNALS, SKILL_PARAMETERS, DEAD_LETTERS)


def partitions_of(spec: TopicSpec, pupil_partitions: int) -> int:
    """Pupil-keyed topics get the configured count; the others are small."""
    return pupil_partitions if spec.pupil_keyed else 1
