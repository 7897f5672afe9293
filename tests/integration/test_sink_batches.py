"""A poll's records decoded as columns: one bad, foreign-keyed or duplicated message changes nothing for the
others, a valid event the mirror declines (pydantic accepts it) is stored like the rest, and everything is
skipped when redelivered (ids decided by either path are looked up alike)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from tests import factories, factories_warehouse
from vigie.core.contract.codec import encode
from vigie.core.contract.events import ErasureRequested
from vigie.core.topics import LEARNING_EVENTS, MASTERY_UPDATES
from vigie.warehouse.sink import Sink

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class _Record:
    offset: int
    value: bytes | None
    key: bytes | None


class _NoCommit:
    def commit(self, offsets: object = None) -> None:
        return None

    def assignment(self) -> set[object]:
        return set()


def _records(values: list[tuple[bytes | None, bytes | None]]) -> list[_Record]:
    return [_Record(offset, value, key) for offset, (value, key) in enumerate(values)]


def test_a_mixed_poll_stores_each_valid_event_once(settings, warehouse) -> None:
    pupil = factories.student(1)
    answers = [factories.answer(student_id=pupil) for _ in range(6)]
    upper = json.loads(encode(answers[5]))
    upper["event_id"] = upper["event_id"].upper()  # valid for pydantic, declined by the mirror
    future = json.loads(encode(factories.answer(student_id=pupil)))
    future["occurred_at"] = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    key = pupil.encode()
    values = [(encode(a), key) for a in answers[:5]]
    values += [
        (json.dumps(upper).encode(), key),
        (encode(answers[0]), key),  # a duplicate within the poll
        (json.dumps(future).encode(), key),  # invalid: in the future
        (b"\xff not json", key),
        (None, key),  # a tombstone
        (encode(factories.answer(student_id=factories.student(2))), key),  # not the key's pupil
        (encode(factories.session_started(student_id=pupil)), key),
        (
            encode(
                ErasureRequested(
                    event_id=uuid.uuid4(), occurred_at=factories.BASE_TIME, academy="lyon", student_id=pupil
                )
            ),
            key,
        ),  # no row: `vigie erase` deletes rows itself
    ]
    topic = LEARNING_EVENTS.name(settings.kafka.topic_prefix)
    sink = Sink(settings, warehouse)
    sink._accept_batch(topic, 0, _records(values))
    sink._flush(_NoCommit())
    assert sink.stats.inserted == {"answers": 6, "session_events": 1}
    assert sink.stats.invalid_skipped == 3  # future, not JSON, foreign pupil
    assert sink.stats.duplicates_in_batch == 1

    db = settings.warehouse.database
    stored = warehouse.query(f"SELECT toString(event_id) FROM {db}.answers ORDER BY event_id").result_rows
    assert sorted(r[0] for r in stored) == sorted(str(a.event_id) for a in answers)
    row = warehouse.query(
        f"SELECT occurred_at, score, teacher_id FROM {db}.answers WHERE event_id = {{id:UUID}}",
        parameters={"id": str(answers[1].event_id)},
    ).result_rows
    assert row == [(answers[1].occurred_at.replace(tzinfo=None), answers[1].score, None)]

    again = Sink(settings, warehouse)
    again._accept_batch(topic, 0, _records(values))
    again._flush(_NoCommit())
    assert again.stats.inserted_total == 0
    assert again.stats.duplicates_skipped == 7


def test_mastery_updates_from_columns_match_the_events(settings, warehouse) -> None:
    updates = [factories_warehouse.mastery_updated(student_id=factories.student(i % 3)) for i in range(10)]
    topic = MASTERY_UPDATES.name(settings.kafka.topic_prefix)
    sink = Sink(settings, warehouse)
    sink._accept_batch(topic, 0, _records([(encode(u), u.student_id.encode()) for u in updates]))
    sink._flush(_NoCommit())
    db = settings.warehouse.database
    rows = warehouse.query(
        f"SELECT toString(event_id), toString(answer_event_id), p_after, attempts, model FROM {db}.mastery_updates"
    ).result_rows
    expected = {(str(u.event_id), str(u.answer_event_id), u.p_after, u.attempts, u.model) for u in updates}
    assert {(e, a, round(p, 5), n, m) for e, a, p, n, m in rows} == {
        (e, a, round(p, 5), n, m) for e, a, p, n, m in expected
    }
