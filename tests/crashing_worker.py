"""A stream worker with an extra processor that raises on one pupil's events (``python -m tests.crashing_worker``).

Settings come from the environment, as for a real worker (vigie.infra.processes.settings_env); the
pupil is ``VIGIE_TEST_POISON_STUDENT``. The pipeline must isolate that pupil's events (dead letters
with the error) and go on with everything else, in this processor and in the others.
"""

from __future__ import annotations

import os

import faust

from vigie.core.settings import VigieSettings
from vigie.core.topics import ensure_topics
from vigie.stream.topology import create_app


class FailingProcessor:
    name = "failing"

    def __init__(self, poison: str) -> None:
        self.poison = poison

    def process(self, events):
        if any(getattr(e, "student_id", None) == self.poison for e in events):
            raise RuntimeError("a processor bug")
        return []


if __name__ == "__main__":
    settings = VigieSettings()
    ensure_topics(settings.kafka)
    stream_app = create_app(settings)
    stream_app.processors.append(FailingProcessor(os.environ["VIGIE_TEST_POISON_STUDENT"]))
    faust.Worker(stream_app.app, loglevel="info", quiet=True).execute_from_commandline()
