"""What every fault case shares: the inputs, a clean reference, the sink, and one accounting at the end.

Each case ends with the same figures (``Accounting``): answers produced, stored (total and distinct),
counted by the aggregates, mastery updates stored, dead letters, duplicates the sink saw, whether the
warehouse's current mastery equals a clean run's, and how long recovery took. ``write`` keeps them in
``test-artifacts/faults/<case>.json`` (the table of the fault suite's note is made from these files).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path

from kafka import KafkaProducer

from tests import factories
from vigie.core.contract.codec import encode
from vigie.core.contract.events import AnswerSubmitted
from vigie.core.contract.taxonomy import skills
from vigie.core.settings import VigieSettings
from vigie.core.topics import LEARNING_EVENTS
from vigie.stream.mastery.params import ParameterBook
from vigie.stream.mastery.processor import MasteryProcessor, decoded_updates
from vigie.warehouse.sink import Sink, SinkStats

REPORT_DIR = Path(__file__).resolve().parents[2] / "test-artifacts" / "faults"
SKILLS = sorted(skills())[:2]
WAIT_S = 240.0


def answers(pupils: int, per_skill: int, seed: int, first: int = 0) -> list[AnswerSubmitted]:
    """Answers of ``pupils`` pupils on two skills, interleaved, with a deterministic right/wrong pattern."""
    events = []
    for round_ in range(per_skill):
        for p in range(first, first + pupils):
            for s, skill in enumerate(SKILLS):
                correct = (p * 7 + s * 3 + round_ * 5 + seed) % 4 != 0
                events.append(factories.answer(student_id=factories.student(p), skill_code=skill, correct=correct))
    return events


def rebuilt_retry(answer: AnswerSubmitted, later: timedelta = timedelta(days=3)) -> AnswerSubmitted:
    """What a platform's retry handler sends: the same event (same event_id), rebuilt with a later time."""
    return answer.model_copy(update={"occurred_at": answer.occurred_at + later})


def reference(arrival: Sequence[AnswerSubmitted]) -> dict[tuple[str, str], tuple[float, int]]:
    """The current mastery per (pupil, skill) of a clean run: the processor, in-process, in arrival order."""
    processor = MasteryProcessor({}, ParameterBook(), threshold=0.95)
    final: dict[tuple[str, str], tuple[float, int]] = {}
    for update in decoded_updates(processor.process(list(arrival))):
        key = (update.student_id, update.skill_code)
        if key not in final or update.attempts >= final[key][1]:
            final[key] = (round(update.p_after, 5), update.attempts)
    return final


class Publisher:
    """Raw records onto the learning-events topic (valid events keyed by their pupil, or any bytes)."""

    def __init__(self, settings: VigieSettings) -> None:
        self.topic = LEARNING_EVENTS.name(settings.kafka.topic_prefix)
        self.producer = KafkaProducer(
            bootstrap_servers=settings.kafka.bootstrap_servers,
            max_request_size=4 * 1024 * 1024,
            linger_ms=5,
            retries=1_000_000,
            delivery_timeout_ms=300_000,
        )
        self.sent = 0

    def events(self, events: Iterable[AnswerSubmitted]) -> None:
        for event in events:
            self.raw(event.student_id.encode(), encode(event))

    def raw(self, key: bytes | None, value: bytes | None) -> None:
        self.producer.send(self.topic, key=key, value=value)
        self.sent += 1

    def close(self) -> None:
        self.producer.flush(timeout=300)
        self.producer.close()


def drain(settings: VigieSettings, client, *, answers: int, letters: int, sink: Sink | None = None) -> SinkStats:
    """Run the real sink until the warehouse holds ``answers`` answers and mastery updates and ``letters``
    dead letters (distinct), or ``WAIT_S`` passed."""
    sink = sink or Sink(settings, client)
    deadline = time.monotonic() + WAIT_S
    db = settings.warehouse.database

    def done(stats: SinkStats) -> bool:
        if time.monotonic() > deadline:
            return True
        counts = dict(
            client.query(
                f"SELECT 'answers', uniqExact(event_id) FROM {db}.answers UNION ALL "
                f"SELECT 'mastery', uniqExact(event_id) FROM {db}.mastery_updates UNION ALL "
                f"SELECT 'letters', uniqExact(event_id) FROM {db}.dead_letters"
            ).result_rows
        )
        return counts["answers"] >= answers and counts["mastery"] >= answers and counts["letters"] >= letters

    return sink.run(until=done, idle_timeout_s=WAIT_S)


@dataclass
class Accounting:
    case: str
    produced: int
    published: int
    stored_total: int
    stored_distinct: int
    counted: int
    mastery_total: int
    mastery_distinct: int
    dead_letters: int
    duplicates_seen: int
    state_equal: bool
    recovery_s: float | None = None

    @classmethod
    def of(
        cls,
        case: str,
        settings: VigieSettings,
        client,
        *,
        produced: int,
        published: int,
        expected: dict[tuple[str, str], tuple[float, int]],
        stats: SinkStats,
        recovery_s: float | None = None,
    ) -> Accounting:
        db = settings.warehouse.database

        def one(sql: str) -> int:
            return int(client.query(sql).result_rows[0][0] or 0)

        current = {
            (s, k): (round(p, 5), int(n))
            for s, k, p, n in client.query(
                f"SELECT student_id, skill_code, p, attempts FROM {db}.mastery_current FINAL"
            ).result_rows
        }
        equal = set(current) == set(expected) and all(
            abs(current[k][0] - expected[k][0]) < 1e-4 and current[k][1] == expected[k][1] for k in expected
        )
        return cls(
            case=case,
            produced=produced,
            published=published,
            stored_total=one(f"SELECT count() FROM {db}.answers"),
            stored_distinct=one(f"SELECT uniqExact(event_id) FROM {db}.answers"),
            counted=one(f"SELECT sum(answers) FROM {db}.agg_activity_daily"),
            mastery_total=one(f"SELECT count() FROM {db}.mastery_updates"),
            mastery_distinct=one(f"SELECT uniqExact(event_id) FROM {db}.mastery_updates"),
            dead_letters=one(f"SELECT uniqExact(event_id) FROM {db}.dead_letters"),
            duplicates_seen=stats.duplicates_skipped + stats.duplicates_in_batch,
            state_equal=equal,
            recovery_s=None if recovery_s is None else round(recovery_s, 1),
        )

    def write(self) -> None:
        REPORT_DIR.mkdir(parents=True, exist_ok=True)
        (REPORT_DIR / f"{self.case}.json").write_text(json.dumps(asdict(self)) + "\n")

    def assert_exact(self, dead_letters: int) -> None:
        """0 lost, 0 counted twice, state equal to the clean run, the expected dead letters."""
        self.write()
        assert self.stored_distinct == self.produced, f"lost answers: {self}"
        assert self.stored_total == self.produced, f"an answer stored twice: {self}"
        assert self.counted == self.produced, f"the daily aggregate counts an answer twice or misses one: {self}"
        assert self.mastery_total == self.mastery_distinct == self.produced, f"mastery updates: {self}"
        assert self.dead_letters == dead_letters, f"dead letters: {self}"
        assert self.state_equal, f"current mastery differs from a clean run: {self}"
