"""Mastery through the real broker and real worker processes: co-partitioned changelog, duplicates,
erasure, live parameters, SIGKILL recovery, and two workers sharing the partitions."""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from kafka import KafkaAdminClient, KafkaConsumer

from tests import factories
from vigie.core.contract.codec import decode
from vigie.core.contract.events import AnswerSubmitted, ErasureRequested, MasteryUpdated
from vigie.core.contract.taxonomy import skills
from vigie.core.topics import MASTERY_UPDATES, ensure_topics, partition_of
from vigie.infra.processes import start_worker, stop_process
from vigie.producers.sdk import EventPublisher
from vigie.stream.mastery.learner import CROSSED, LearnerModel
from vigie.stream.mastery.learner_params import default_learner_model
from vigie.stream.mastery.learner_params import to_contract as learner_contract
from vigie.stream.mastery.model import BktParams
from vigie.stream.mastery.params import ParameterBook, publish, to_contract
from vigie.stream.mastery.processor import MasteryProcessor, decoded_updates

pytestmark = pytest.mark.integration

SKILLS = sorted(skills())[:3]
WAIT_S = 180


def _answers(pupils: int, per_skill: int, seed: int) -> list[AnswerSubmitted]:
    """Answers of ``pupils`` pupils, interleaved, with a deterministic right/wrong pattern."""
    events = []
    for round_ in range(per_skill):
        for p in range(pupils):
            for s, skill in enumerate(SKILLS):
                correct = (p * 7 + s * 3 + round_ * 5 + seed) % 4 != 0
                events.append(factories.answer(student_id=factories.student(p), skill_code=skill, correct=correct))
    return events


def _publish(settings, events) -> None:
    with EventPublisher(settings.kafka) as publisher:
        for event in events:
            publisher.publish(event)


class TopicReader:
    """Reads a topic from the beginning and keeps everything read, with partitions."""

    def __init__(self, settings, topic: str) -> None:
        self.consumer = KafkaConsumer(
            topic,
            bootstrap_servers=settings.kafka.bootstrap_servers,
            group_id=None,
            auto_offset_reset="earliest",
            consumer_timeout_ms=500,
        )
        self.records = []

    def until(self, condition: Callable[[list], bool], workers=(), logs=(), timeout_s: float = WAIT_S) -> list:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.records += list(self.consumer)
            if condition(self.records):
                return self.records
            for worker, log in zip(workers, logs, strict=True):
                assert worker.poll() is None, log.read_text()[-6000:]
        tails = "".join(f"\n--- {log.name} (last 6000 characters) ---\n{log.read_text()[-6000:]}" for log in logs)
        raise AssertionError(
            f"condition not met after {timeout_s}s with {len(self.records)} records: {condition}{tails}"
        )

    def close(self) -> None:
        self.consumer.close()


def _updates(records) -> list[MasteryUpdated]:
    return [decode(r.value, MasteryUpdated) for r in records]


class _Answered:
    """True once every answer has a MasteryUpdated; says which are missing otherwise."""

    def __init__(self, events) -> None:
        self.wanted = {e.event_id: e for e in events}
        self.missing: list = []

    def __call__(self, records) -> bool:
        seen = {u.answer_event_id for u in _updates(records)}
        self.missing = [e for i, e in self.wanted.items() if i not in seen]
        return not self.missing

    def __str__(self) -> str:
        shown = ", ".join(f"{e.student_id[:8]}/{e.skill_code}@{e.occurred_at:%H:%M:%S}" for e in self.missing[:10])
        return f"{len(self.missing)} answers without a MasteryUpdated: {shown}"


def _answered(events) -> _Answered:
    return _Answered(events)


def _last_per_pupil_skill(updates: list[MasteryUpdated]) -> dict[tuple[str, str], tuple[float, int]]:
    """The last update per (pupil, skill) in topic order."""
    return {(u.student_id, u.skill_code): (u.p_after, u.attempts) for u in updates}


def _current_per_pupil_skill(updates: list[MasteryUpdated]) -> dict[tuple[str, str], tuple[float, int]]:
    """The update with the most attempts per (pupil, skill), whatever the order on the topic."""
    return _last_per_pupil_skill(sorted(updates, key=lambda u: u.attempts))


def _reference(events, book: ParameterBook | None = None) -> dict[tuple[str, str], tuple[float, int]]:
    """What an uninterrupted run computes: the same processor, in-process, on the same events."""
    processor = MasteryProcessor({}, book or ParameterBook(), threshold=0.95)
    return _last_per_pupil_skill(decoded_updates(processor.process(events)))


def test_worker_emits_copartitioned_mastery_dedups_and_erases(settings, tmp_path) -> None:
    ensure_topics(settings.kafka)
    partitions = settings.kafka.partitions
    log = tmp_path / "worker.log"
    worker = start_worker(settings, log)
    mastery = TopicReader(settings, MASTERY_UPDATES.name(settings.kafka.topic_prefix))
    changelog_topic = f"{settings.kafka.topic_prefix}-{settings.stream.app_id}-mastery-changelog"
    try:
        events = _answers(pupils=8, per_skill=2, seed=1)
        _publish(settings, events)
        before = len(mastery.until(_answered(events), [worker], [log]))
        _publish(settings, events[:5])  # duplicates: a producer retried, or a platform replayed
        # Then one answer on every partition: once each has its update, the duplicates before it were processed.
        sentinels = [
            factories.answer(student_id=_probes(partitions)[p], skill_code=SKILLS[0]) for p in range(partitions)
        ]
        _publish(settings, sentinels)
        records = mastery.until(_answered(sentinels), [worker], [log])
        updates = _updates(records)
        # Every update is on the pupil's partition of the learning events (co-partitioned outputs).
        for record, update in zip(records, updates, strict=True):
            assert record.partition == partition_of(update.student_id.encode(), partitions)
        ours = [u for u in updates if u.answer_event_id in {e.event_id for e in events}]
        assert _current_per_pupil_skill(ours) == _reference(events), "duplicates did not move the estimates"
        assert len({u.event_id for u in updates}) == len(events) + len(sentinels)
        later = [u.answer_event_id for u in updates[before:]]
        assert sorted(map(str, later)) == sorted(str(e.event_id) for e in sentinels), (
            "a duplicate emits nothing: its update was acknowledged before the state that remembers it"
        )

        pupil = factories.student(0)
        erasure = ErasureRequested(
            event_id=uuid.uuid4(), occurred_at=datetime.now(UTC), academy="lyon", student_id=pupil
        )
        _publish(settings, [erasure])
        changelog = TopicReader(settings, changelog_topic)
        changelog.until(lambda rs: any(r.key == pupil.encode() and r.value is None for r in rs), [worker], [log])
        assert changelog.records, "the mastery table has a changelog"
        for record in changelog.records:
            # The TRAP: inside a batch, faust's current event is another pupil's. The partitioner puts the
            # record on murmur2(pupil), i.e. the partition of the pupil's learning events.
            assert record.partition == partition_of(record.key, partitions), record.key
        changelog.close()

        after = factories.answer(student_id=pupil, skill_code=SKILLS[0], correct=True)
        _publish(settings, [after])
        records = mastery.until(_answered([after]), [worker], [log])
        assert _updates(records)[-1].attempts == 1, "the erased pupil starts again from scratch"
    finally:
        mastery.close()
        stop_process(worker)


def _new_parameters(model: str) -> list:
    """Version 7 of the given model's parameters for SKILLS (published while workers run)."""
    if model == "bkt":
        params = BktParams(p_init=0.5, p_learn=0.3, p_guess=0.15, p_slip=0.05, version=7)
        return [to_contract(s, params, 1000, datetime.now(UTC)) for s in SKILLS]
    default = default_learner_model()
    fitted = LearnerModel(default.weights, default.global_prior, dict.fromkeys(SKILLS, 1.5),
                          skill_weights={s: (0.2,) * len(CROSSED) for s in SKILLS}, version=7)  # fmt: skip
    return learner_contract(fitted, 1000, datetime.now(UTC))


@pytest.mark.parametrize("model", ["learner", "bkt"])
def test_new_parameters_reach_running_workers_without_restart(settings, tmp_path, model) -> None:
    settings = settings.model_copy(update={"stream": settings.stream.model_copy(update={"mastery_model": model})})
    ensure_topics(settings.kafka)
    logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
    workers = [start_worker(settings, log) for log in logs]
    mastery = TopicReader(settings, MASTERY_UPDATES.name(settings.kafka.topic_prefix))
    try:
        first = _answers(pupils=4, per_skill=1, seed=2)
        _publish(settings, first)
        updates = _updates(mastery.until(_answered(first), workers, logs))
        assert {u.params_version for u in updates} == {0}, "no calibration yet: defaults"
        assert {u.model for u in updates} == {model}

        publish(settings.kafka, _new_parameters(model))
        # Probe one pupil per partition (so every worker) until each shows the new version, without restart.
        partitions = settings.kafka.partitions
        probes = _probes(partitions)
        waiting = set(range(partitions))
        deadline = time.monotonic() + 90
        while waiting:
            order = sorted(waiting)
            sent = [factories.answer(student_id=probes[p], skill_code=SKILLS[0], correct=True) for p in order]
            _publish(settings, sent)
            seen = {u.answer_event_id: u for u in _updates(mastery.until(_answered(sent), workers, logs))}
            waiting = {p for p, e in zip(order, sent, strict=True) if seen[e.event_id].params_version != 7}
            assert time.monotonic() < deadline, f"partitions {waiting} never picked up the new parameters"
            if waiting:
                time.sleep(1)
        second = _answers(pupils=16, per_skill=1, seed=3)
        _publish(settings, second)
        updates = _updates(mastery.until(_answered(second), workers, logs))
        fresh = [u for u in updates if u.answer_event_id in {e.event_id for e in second}]
        assert {partition_of(u.student_id.encode(), partitions) for u in fresh} == set(range(partitions))
        assert {u.params_version for u in fresh} == {7}, "every worker sees every skill's parameters"
        assert all(w.poll() is None for w in workers)
        members = _group_members(settings)
        assert len(members) == 2, "both workers share the partitions"
    finally:
        mastery.close()
        for worker in workers:
            stop_process(worker)


def _probes(partitions: int) -> dict[int, str]:
    """A pupil per partition (pupils 100+, none of ``_answers``'s)."""
    probes: dict[int, str] = {}
    for n in range(100, 200):
        probes.setdefault(partition_of(factories.student(n).encode(), partitions), factories.student(n))
    return probes


def _group_members(settings) -> list:
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka.bootstrap_servers)
    try:
        group = f"{settings.kafka.topic_prefix}-{settings.stream.app_id}"
        return list(admin.describe_groups([group])[group]["members"])
    finally:
        admin.close()


def test_sigkill_mid_stream_then_restart_gives_the_uninterrupted_result(settings, tmp_path) -> None:
    ensure_topics(settings.kafka)
    log = tmp_path / "worker.log"
    events = _answers(pupils=12, per_skill=6, seed=4)
    half = len(events) // 2
    mastery = TopicReader(settings, MASTERY_UPDATES.name(settings.kafka.topic_prefix))
    worker = start_worker(settings, log)
    try:
        _publish(settings, events[:half])
        mastery.until(lambda rs: len(rs) >= half // 3, [worker], [log])
        os.kill(worker.pid, signal.SIGKILL)  # mid-stream: no commit, no flush, no goodbye
        worker.wait(30)
        _publish(settings, events[half:])
        worker = start_worker(settings, log)
        records = mastery.until(_answered(events), [worker], [log])
    finally:
        stop_process(worker)
    last = _last_per_pupil_skill(_updates(records))
    assert last == _reference(events), "the final mastery of every (pupil, skill) equals an uninterrupted run"
    assert "Error in recovery" not in log.read_text(), "every table's changelog is read back as it was written"
    assert len(records) >= len(events)
    mastery.close()


def test_two_workers_give_the_same_result_as_one(settings, tmp_path) -> None:
    ensure_topics(settings.kafka)
    events = _answers(pupils=12, per_skill=4, seed=5)
    logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
    workers = [start_worker(settings, log) for log in logs]
    mastery = TopicReader(settings, MASTERY_UPDATES.name(settings.kafka.topic_prefix))
    try:
        _publish(settings, events)
        records = mastery.until(_answered(events), workers, logs)
        assert len(_group_members(settings)) == 2
    finally:
        mastery.close()
        for worker in workers:
            stop_process(worker)
    assert _last_per_pupil_skill(_updates(records)) == _reference(events)
