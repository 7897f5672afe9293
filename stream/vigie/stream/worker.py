"""Run the stream app as a faust worker in this process (what ``vigie stream worker`` does)."""

from __future__ import annotations

import faust

from vigie.core.settings import VigieSettings
from vigie.core.topics import ensure_named_topics, ensure_topics
from vigie.stream.app import StreamApp
from vigie.stream.topology import create_app


def ensure_changelog_topics(stream_app: StreamApp) -> list[str]:
    """Create the tables' changelog topics before faust joins the group.

    faust creates them lazily, each worker on its own: two workers starting together could join while one
    changelog topic did not exist yet, and the group's assignment then skipped its partitions ("Ignoring
    missing topic") — a pupil partition was never processed until the next rebalance.
    """
    kafka = stream_app.settings.kafka
    wanted = {
        table.changelog_topic.get_topic_name(): (kafka.partitions, {"cleanup.policy": "compact"})
        for table in stream_app.app.tables.values()
    }
    return ensure_named_topics(kafka, wanted)


def run_worker(settings: VigieSettings, *, loglevel: str = "warning") -> None:
    ensure_topics(settings.kafka)
    stream_app = create_app(settings)
    ensure_changelog_topics(stream_app)
    worker = faust.Worker(stream_app.app, loglevel=loglevel, quiet=True)
    worker.execute_from_commandline()
