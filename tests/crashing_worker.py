"""A stream worker with a processor that fails on its first batch (``python -m tests.crashing_worker``).

Settings come from the environment, as for a real worker (tests.conftest.settings_env).
"""

from __future__ import annotations

import faust

from vigie.core.settings import VigieSettings
from vigie.core.topics import ensure_topics
from vigie.stream.topology import create_app


class FailingProcessor:
    name = "failing"

    def process(self, events):
        if events:
            raise RuntimeError("a processor bug")
        return []


if __name__ == "__main__":
    settings = VigieSettings()
    ensure_topics(settings.kafka)
    stream_app = create_app(settings)
    stream_app.processors.append(FailingProcessor())
    faust.Worker(stream_app.app, loglevel="info", quiet=True).execute_from_commandline()
