"""Run the stream app as a faust worker in this process (what ``vigie stream worker`` does)."""

from __future__ import annotations

import faust

from vigie.core.settings import VigieSettings
from vigie.core.topics import ensure_topics
from vigie.stream import metrics
from vigie.stream.topology import create_app


def run_worker(settings: VigieSettings, *, loglevel: str = "warning") -> None:
    ensure_topics(settings.kafka)
    stream_app = create_app(settings)
    metrics.serve(settings.stream.metrics_port)
    worker = faust.Worker(stream_app.app, loglevel=loglevel, quiet=True)
    worker.execute_from_commandline()
