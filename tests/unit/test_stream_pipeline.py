"""The pipeline's entrance and processor isolation without a broker: every message ends processed or
dead-lettered, a poison event is undone and isolated (table writes and a processor's in-memory data alike),
and dead letters keep no raw identifier."""

from __future__ import annotations

import base64
import copy
import json
import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest

from tests import factories
from tests.unit.test_signals_state import BATCH, EVENTS, HALF, PARTITIONS
from tests.unit.test_state_cache import reusable
from vigie.core.contract.codec import decode, encode
from vigie.core.contract.events import DeadLetter, LearningEvent
from vigie.core.settings import PrivacySettings, VigieSettings
from vigie.core.topics import MASTERY_UPDATES, SIGNALS
from vigie.producers.pseudonym import Pseudonymizer
from vigie.stream.deadletters import DeadLetterWriter
from vigie.stream.emit import ChangelogTable, Outbox
from vigie.stream.mastery.params import ParameterBook
from vigie.stream.mastery.processor import MasteryProcessor
from vigie.stream.pipeline import PROCESS_ATTEMPTS, processing_error, run_processors, split_valid
from vigie.stream.signals.agents import SignalsProcessor
from vigie.stream.signals.engine import SignalEngine

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

    def __init__(self, changelog: str = "app-mastery-changelog") -> None:
        self.data: dict[str, bytes] = {}
        self.value_serializer = "raw"

        class _Topic:
            def get_topic_name(self) -> str:
                return changelog

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


class _Failing(SignalsProcessor):
    """The real signals processor with a bug: the first ``times`` batches holding ``event_id`` raise once the
    engine has applied all of them (item times, class activity, watermarks and states changed)."""

    def __init__(self, engine: SignalEngine, event_id: uuid.UUID | None = None, times: int = 0) -> None:
        super().__init__(engine)
        self.event_id, self.times = event_id, times

    def process(self, events):
        emissions = super().process(events)
        if self.times > 0 and any(e.event_id == self.event_id for e in events):
            self.times -= 1
            raise RuntimeError("a processor bug")
        return emissions


def _signals_run(batches: list[list[LearningEvent]], fails_on: uuid.UUID | None = None, times: int = 0):
    """The batches through ``run_processors`` and the day-boundary timer, wired as in a worker: (the signal
    changes produced, the events dead-lettered, the engine's memory after each batch, the engine)."""
    table, outbox = _Table("app-signals-state-changelog"), Outbox()
    engine = SignalEngine(ChangelogTable(table, outbox), partitions=PARTITIONS, journal=outbox.journal)
    processor, names = _Failing(engine, fails_on, times), {SIGNALS: "signals"}
    changes, dead, memories = [], [], []
    for batch in batches:
        valid = [(e, _Message(b"", b"", offset=i)) for i, e in enumerate(batch)]
        dead += [batch[i] for i in run_processors([processor], valid, outbox, names)]
        changes += [record for record in outbox.drain() if record[0] == "signals"]
        changes += [("signals", c.student_id.encode(), encode(c)) for c in engine.tick()]
        outbox.drain()
        memories.append(copy.deepcopy(_memory(engine)))
    return changes, dead, memories, engine


def _memory(engine: SignalEngine) -> dict[str, object]:
    """What a worker's engine keeps in memory besides its table and its decoded states."""
    return {
        "item_times": engine.items._stats,
        "class_activity": engine.classes._classes,
        "watermarks": engine.watermarks,
        "scanned": engine.scanned,
        "events": engine.events,
        "duplicates": engine.duplicates,
    }


EARLY = EVENTS[: HALF + 2 * BATCH]
#: The batch that fails, and where in it the event that makes it fail is.
FAILING, MIDDLE = HALF // BATCH, BATCH // 2


def _batches(extra: LearningEvent | None = None) -> list[list[LearningEvent]]:
    """``EARLY`` in batches, ``extra`` in the middle of batch ``FAILING``."""
    batches = [EARLY[start : start + BATCH] for start in range(0, len(EARLY), BATCH)]
    if extra is not None:
        batches[FAILING] = [*batches[FAILING][:MIDDLE], extra, *batches[FAILING][MIDDLE:]]
    return batches


def test_a_poison_event_in_the_signals_leaves_their_memory_and_outputs_as_if_it_never_came() -> None:
    """An event that makes the engine raise halfway through a batch, once it moved its partition's watermark to
    the next day and caught its pupil up to it: the batch is undone and replayed, the event dead-lettered, and
    the engine's memory (item times, class activity, watermarks) after every batch, its signals and its table
    are those of a run that never saw the event."""
    last = _batches()[FAILING][-1].occurred_at
    poison = _batches()[FAILING][MIDDLE].model_copy(  # no such academy: the engine raises (the contract refuses it)
        update={"academy": "atlantide", "event_id": uuid.uuid4(), "occurred_at": last + timedelta(days=1)}
    )
    expected, none, clean_memories, clean = _signals_run(_batches())
    changes, dead, memories, engine = _signals_run(_batches(poison))
    assert none == [] and dead == [poison]
    assert memories == clean_memories
    assert engine.store == clean.store
    assert changes == expected, "the same signal changes, in the same order"
    assert reusable(engine) == set(engine.decoded._entries), "every decoded state kept is of a value stored"


@pytest.mark.parametrize("failures", [1, PROCESS_ATTEMPTS + 1], ids=["transient", "dead-lettered"])
def test_a_failed_signals_batch_counts_no_event_twice(failures: int) -> None:
    """A failure after the engine applied a whole batch holding an answer of a new class on the next day: the
    batch is undone and replayed, each event applied once (or not at all if it fails every time: then it is
    dead-lettered), and nothing of the failed attempts stays in memory (item times, class activity, watermarks,
    decoded states): the same as a run of what was applied, without the failure."""
    answer = next(e for e in _batches()[FAILING][MIDDLE:] if e.kind == "answer")
    extra = answer.model_copy(
        update={
            "class_id": "a-new-class",
            "event_id": uuid.uuid4(),
            "occurred_at": answer.occurred_at + timedelta(days=1),
        }
    )
    applied = _batches(extra) if failures <= PROCESS_ATTEMPTS else _batches()
    expected, _, clean_memories, clean = _signals_run(applied)
    changes, dead, memories, engine = _signals_run(_batches(extra), extra.event_id, failures)
    assert dead == ([] if failures <= PROCESS_ATTEMPTS else [extra])
    assert memories == clean_memories
    assert engine.store == clean.store
    assert changes == expected
    assert reusable(engine) == set(engine.decoded._entries), "every decoded state kept is of a value stored"


def test_a_workers_signals_engine_journals_its_memory_where_the_pipeline_rolls_back(tmp_path) -> None:
    from vigie.stream.topology import create_app

    stream_app = create_app(VigieSettings(state_dir=tmp_path, kafka={"partitions": 3}))
    [processor] = [p for p in stream_app.processors if isinstance(p, SignalsProcessor)]
    engine, journal = processor.engine, stream_app.outbox.journal
    assert engine.journal is journal and engine.items.journal is journal and engine.classes.journal is journal
