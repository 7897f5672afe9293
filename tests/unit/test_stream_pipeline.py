"""The pipeline's entrance and processor isolation without a broker: every message ends processed or
dead-lettered, a poison event is undone and isolated, and dead letters keep no raw identifier."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

import pytest

from tests import factories
from vigie.core.contract.codec import decode, encode
from vigie.core.contract.events import DeadLetter
from vigie.core.settings import PrivacySettings
from vigie.core.topics import MASTERY_UPDATES
from vigie.producers.pseudonym import Pseudonymizer
from vigie.stream.deadletters import DeadLetterWriter
from vigie.stream.emit import ChangelogTable, Outbox
from vigie.stream.mastery.params import ParameterBook
from vigie.stream.mastery.processor import MasteryProcessor
from vigie.stream.pipeline import PROCESS_ATTEMPTS, processing_error, run_processors, split_valid

pytestmark = pytest.mark.unit

PRIVACY = PrivacySettings()
DEV = Pseudonymizer(PRIVACY.key_for("lyon"))


@dataclass
class _Message:
    """What the pipeline reads of a Kafka record (aiokafka's ``ConsumerRecord`` has these fields)."""

    key: bytes | None
    value: bytes | None
    topic: str = "t.learning-events.v1"
    partition: int = 0
    offset: int = 0


def _batch(*messages: _Message) -> list[_Message]:
    return [_Message(m.key, m.value, offset=i) for i, m in enumerate(messages)]


def _keyed(event) -> _Message:
    return _Message(event.student_id.encode(), encode(event))


def _letters(rejected) -> list[DeadLetter]:
    return [decode(value, DeadLetter) for _, value in rejected]


def test_tombstones_oversize_garbage_and_wrong_keys_are_dead_lettered_the_rest_is_valid() -> None:
    good = factories.answer(student_id=factories.student(1))
    batch = _batch(
        _keyed(good),
        _Message(b"k", None),  # a tombstone
        _Message(good.student_id.encode(), b"x" * (1024 * 1024)),  # 1 MB: the broker accepts it
        _Message(good.student_id.encode(), b"\xff\x00garbage"),
        _Message(b"some-other-key", encode(good)),  # not keyed by the pupil
        _Message(None, encode(good)),
    )
    valid, rejected = split_valid(batch, DeadLetterWriter(PRIVACY))
    assert [event for event, _ in valid] == [good]
    letters = _letters(rejected)
    assert [letter.offset for letter in letters] == [1, 2, 3, 4, 5]
    assert "tombstone" in letters[0].reason and letters[0].payload_bytes is None
    assert letters[1].payload_bytes == 1024 * 1024 and len(rejected[1][1]) < 64 * 1024
    assert all("key" in letter.reason for letter in letters[3:])
    assert letters[3].student_id == good.student_id, "the pupil is known from the payload"


def test_a_raw_identifier_never_reaches_a_dead_letter_and_the_pupil_pseudonym_is_recorded() -> None:
    raw = json.loads(encode(factories.answer()))
    raw.update(student_id="ent-48213", class_id="cm1-b", teacher_id=None, nom="Dupont", extra={"ine": "x"})
    raw["ent-48213-dupont"] = 1  # an unknown field named after the pupil: its name is withheld too
    [letter] = _letters(
        split_valid(_batch(_Message(b"ent-48213", json.dumps(raw).encode())), DeadLetterWriter(PRIVACY))[1]
    )
    text = encode(letter).decode() + base64.b64decode(letter.payload_b64).decode()
    for secret in ("ent-48213", "cm1-b", "Dupont", "nom", "ine"):
        assert secret not in text
    assert letter.student_id == DEV.student("ent-48213"), "the SDK's pseudonym: vigie erase finds the letter"
    assert letter.key == DEV.student("ent-48213") and letter.academy == "lyon"
    assert set(letter.redacted) == {"key", "student_id", "class_id", "other_fields"}
    assert letter.payload_digest and letter.payload_digest.startswith("hmac-sha256:")


def test_a_payload_that_is_not_a_json_object_is_withheld_with_its_size_and_digest() -> None:
    writer = DeadLetterWriter(PRIVACY)
    [letter] = _letters(split_valid(_batch(_Message(b"ent-1", b"eleve ent-1 Dupont")), writer)[1])
    assert letter.payload_b64 == "" and "payload" in letter.redacted and letter.payload_bytes == 18
    assert letter.payload_digest == writer.digest(b"eleve ent-1 Dupont")


class _Table:
    """What ChangelogTable needs of a faust table."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}
        self.value_serializer = "raw"

        class _Topic:
            def get_topic_name(self) -> str:
                return "app-mastery-changelog"

        self.changelog_topic = _Topic()


class _Poisoned(MasteryProcessor):
    """The real mastery processor with a bug: a batch holding ``poison`` raises, after writing state."""

    def __init__(self, table, poison=None) -> None:
        super().__init__(table, ParameterBook(), threshold=0.95)
        self.poison = poison

    def process(self, events):
        emissions = super().process(events)
        if any(e.event_id == self.poison for e in events):
            raise RuntimeError("a processor bug")
        return emissions


def test_a_poison_event_is_undone_retried_then_isolated_and_every_other_event_is_processed() -> None:
    pupils = [factories.student(i) for i in range(3)]
    events = [factories.answer(student_id=p, correct=bool(i % 2)) for i in range(4) for p in pupils]
    poison = events[4]  # pupil 1, second answer
    names = {MASTERY_UPDATES: "mu"}
    clean_table, outbox = _Table(), Outbox()
    clean = [(e, _Message(b"", b"")) for e in events if e is not poison]
    run_processors([_Poisoned(ChangelogTable(clean_table, outbox))], clean, outbox, names)
    expected_state, expected_records = dict(clean_table.data), outbox.drain()

    table, outbox = _Table(), Outbox()
    valid = [(e, _Message(b"", b"", offset=i)) for i, e in enumerate(events)]
    failures = run_processors([_Poisoned(ChangelogTable(table, outbox), poison.event_id)], valid, outbox, names)
    assert list(failures) == [4] and failures[4][0][0] == "mastery"
    assert table.data == expected_state, "the failed writes were undone: state as if the event never came"
    records = outbox.drain()
    assert sorted(r for r in records if r[0] == "mu") == sorted(r for r in expected_records if r[0] == "mu")
    assert f"({PROCESS_ATTEMPTS} attempts)" in str(processing_error(failures[4]))
