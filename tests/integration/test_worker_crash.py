"""A processor bug on one event dead-letters that event with the error; the worker goes on, loses nothing."""

from __future__ import annotations

import base64
import json
import os

import pytest

from tests import factories
from tests.integration.test_mastery_stream import TopicReader, _answered, _publish
from vigie.core.contract.codec import decode
from vigie.core.contract.events import DeadLetter
from vigie.core.topics import DEAD_LETTERS, MASTERY_UPDATES, ensure_topics
from vigie.infra.processes import start_worker, stop_process

pytestmark = pytest.mark.integration


def test_a_processor_that_raises_on_one_event_dead_letters_it_and_the_worker_goes_on(settings, tmp_path):
    ensure_topics(settings.kafka)
    poison = factories.student(3)
    events = [factories.answer(student_id=factories.student(i)) for i in range(8)]
    _publish(settings, events)
    os.environ["VIGIE_TEST_POISON_STUDENT"] = poison
    log = tmp_path / "worker.log"
    try:
        worker = start_worker(settings, log, module="tests.crashing_worker")
    finally:
        del os.environ["VIGIE_TEST_POISON_STUDENT"]
    prefix = settings.kafka.topic_prefix
    mastery = TopicReader(settings, MASTERY_UPDATES.name(prefix))
    letters = TopicReader(settings, DEAD_LETTERS.name(prefix))
    try:
        # The other processors handled every event, the poison one included.
        mastery.until(_answered(events), [worker], [log])
        records = letters.until(lambda rs: len(rs) >= 1, [worker], [log])
        later = [factories.answer(student_id=factories.student(i)) for i in range(8)]
        _publish(settings, later)
        mastery.until(_answered(later), [worker], [log])  # still consuming after the poison batches
        records = letters.until(lambda rs: len(rs) >= 2, [worker], [log])
        assert worker.poll() is None, "the worker did not stop"
    finally:
        stop_process(worker)
        mastery.close()
        letters.close()
    dead = [decode(r.value, DeadLetter) for r in records]
    poisoned = {e.event_id for e in events + later if e.student_id == poison}
    assert len(dead) == 2 and all(d.error_type == "ProcessingError" for d in dead)
    assert all("processor failing raised RuntimeError: a processor bug" in d.reason for d in dead)
    assert {d.student_id for d in dead} == {poison}
    assert {json.loads(base64.b64decode(d.payload_b64))["event_id"] for d in dead} == {str(i) for i in poisoned}
