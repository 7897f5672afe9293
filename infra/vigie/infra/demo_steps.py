"""Steps of the demo that touch data: publish the cohort, count what the warehouse holds of it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from vigie.contract.events import AnswerSubmitted, SessionEnded, SessionStarted
from vigie.producers.sdk import EventPublisher
from vigie.producers.simulator import Simulation, SimulationConfig
from vigie.settings import VigieSettings


@dataclass
class SentCohort:
    ids: dict[str, list[uuid.UUID]] = field(default_factory=dict)
    invalid: int = 0

    @property
    def total(self) -> int:
        return sum(len(v) for v in self.ids.values())

    @property
    def expected(self) -> dict[str, int]:
        return {table: len(ids) for table, ids in self.ids.items()}


@dataclass
class StoredCount:
    rows: dict[str, int]
    distinct: dict[str, int]
    complete: bool


def publish_cohort(settings: VigieSettings, *, students: int, days: int) -> SentCohort:
    simulation = Simulation(SimulationConfig(students_per_class=students, days=days), settings.privacy)
    sent = SentCohort(ids={"answers": [], "session_events": []})
    with EventPublisher(settings.kafka) as publisher:
        for event in simulation.events():
            publisher.publish(event)
            table = "answers" if isinstance(event, AnswerSubmitted) else "session_events"
            assert isinstance(event, AnswerSubmitted | SessionStarted | SessionEnded)
            sent.ids[table].append(event.event_id)
        sent.invalid = _publish_invalid(publisher)
    return sent


def _publish_invalid(publisher: EventPublisher) -> int:
    """A few messages a careless platform could send: the stream must dead-letter them, not stop."""
    bad = [b"not json at all", b'{"kind": "answer", "student_id": "jean.dupont"}', b"{}"]
    for value in bad:
        publisher._producer.send(publisher.topic, key=b"invalid", value=value)
    return len(bad)


def count_stored(client, settings: VigieSettings, sent: SentCohort) -> StoredCount:
    db = settings.warehouse.database
    rows, distinct = {}, {}
    for table, ids in sent.ids.items():
        found = client.query(
            f"SELECT count(), uniqExact(event_id) FROM {db}.{table} WHERE event_id IN %(ids)s",
            parameters={"ids": ids},
        ).result_rows[0]
        rows[table], distinct[table] = int(found[0]), int(found[1])
    complete = all(distinct[t] == len(ids) for t, ids in sent.ids.items())
    return StoredCount(rows, distinct, complete)
