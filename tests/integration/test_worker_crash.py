"""A processor bug stops the worker (so its supervisor restarts it) and loses no answer."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests import factories
from tests.integration.test_mastery_stream import TopicReader, _answered, _publish
from vigie.core.topics import MASTERY_UPDATES, ensure_topics
from vigie.infra.processes import settings_env, start_worker, stop_process

pytestmark = pytest.mark.integration


def test_a_crashing_processor_stops_the_worker_and_the_answer_is_processed_after_restart(settings, tmp_path):
    ensure_topics(settings.kafka)
    events = [factories.answer(student_id=factories.student(i)) for i in range(5)]
    _publish(settings, events)

    crashing = subprocess.run(
        [sys.executable, "-m", "tests.crashing_worker"],
        env=settings_env(settings),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert crashing.returncode != 0, "an agent's crash must end the worker process"
    assert "a processor bug" in crashing.stdout + crashing.stderr

    log = tmp_path / "worker.log"
    worker = start_worker(settings, log)
    mastery = TopicReader(settings, MASTERY_UPDATES.name(settings.kafka.topic_prefix))
    try:
        mastery.until(_answered(events), [worker], [log])  # nothing was committed past the failed batch
    finally:
        stop_process(worker)
        mastery.close()
