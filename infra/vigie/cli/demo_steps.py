"""Steps of the demo that touch data: publish the cohort, count what the warehouse holds of it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from vigie.core.contract.calendar import is_school_day
from vigie.core.contract.codec import dead_letter_id
from vigie.core.contract.events import AnswerSubmitted
from vigie.core.contract.referential import zone_of
from vigie.core.settings import VigieSettings
from vigie.producers.sdk import EventPublisher
from vigie.producers.simulator import Simulation, SimulationConfig

#: A few messages a careless platform could send: the stream must dead-letter them and carry on.
INVALID_MESSAGES = (b"not json at all", b'{"kind": "answer", "student_id": "jean.dupont"}', b"{}")


@dataclass
class SentCohort:
    """Event ids the demo published, by the warehouse table they must land in."""

    ids: dict[str, list[uuid.UUID]] = field(default_factory=dict)
    invalid: int = 0
    first_day: date | None = None
    last_day: date | None = None

    @property
    def total(self) -> int:
        """Valid events published (mastery updates are the stream's, dead letters are rejects)."""
        return len(self.ids["answers"]) + len(self.ids["session_events"])

    @property
    def expected(self) -> dict[str, int]:
        return {table: len(ids) for table, ids in self.ids.items()}


@dataclass
class StoredCount:
    rows: dict[str, int]
    distinct: dict[str, int]
    signals: int

    def complete(self, sent: SentCohort) -> bool:
        return all(self.distinct[t] == n for t, n in sent.expected.items())


def last_term_day(academy: str, today: date | None = None) -> date:
    """The latest school day before today in the academy's zone, so the demo never lands in holidays."""
    day = (today or datetime.now(UTC).date()) - timedelta(days=1)
    while not is_school_day(day, zone_of(academy)):
        day -= timedelta(days=1)
    return day


def publish_cohort(settings: VigieSettings, *, academies: tuple[str, ...], students: int, days: int) -> SentCohort:
    from vigie.stream.mastery.processor import mastery_event_id

    config = SimulationConfig(
        academies=academies, students_per_class=students, days=days, end=last_term_day(academies[0])
    )
    first, last = config.window()
    sent = SentCohort(ids={"answers": [], "session_events": [], "mastery_updates": []}, first_day=first, last_day=last)
    with EventPublisher(settings.kafka) as publisher:
        for event in Simulation(config, settings.privacy).events():
            publisher.publish(event)
            if isinstance(event, AnswerSubmitted):
                sent.ids["answers"].append(event.event_id)
                sent.ids["mastery_updates"].append(mastery_event_id(event.event_id))
            else:
                sent.ids["session_events"].append(event.event_id)
    sent.ids["dead_letters"] = _publish_invalid(settings, publisher.topic)
    sent.invalid = len(sent.ids["dead_letters"])
    return sent


def _publish_invalid(settings: VigieSettings, topic: str) -> list[uuid.UUID]:
    """Raw bytes from a platform that skipped the SDK (the SDK itself refuses invalid events).

    Returns the ids their dead letters must have: derived from where each message landed.
    """
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=settings.kafka.bootstrap_servers)
    landed = [producer.send(topic, key=b"invalid", value=value).get(timeout=30) for value in INVALID_MESSAGES]
    producer.close()
    return [dead_letter_id(topic, m.partition, m.offset) for m in landed]


def count_stored(client, settings: VigieSettings, sent: SentCohort) -> StoredCount:
    """Rows and distinct event ids the warehouse holds of what was sent (ids bound as parameters)."""
    db = settings.warehouse.database
    rows, distinct = {}, {}
    for table, ids in sent.ids.items():
        rows[table] = distinct[table] = 0
        for start in range(0, len(ids), 10_000):
            found = client.query(
                f"SELECT count(), uniqExact(event_id) FROM {db}.{table} WHERE event_id IN {{ids:Array(UUID)}}",
                parameters={"ids": ids[start : start + 10_000]},
            ).result_rows[0]
            rows[table] += int(found[0])
            distinct[table] += int(found[1])
    signals = client.query(f"SELECT count() FROM {db}.signals").result_rows[0][0]
    return StoredCount(rows, distinct, int(signals))
