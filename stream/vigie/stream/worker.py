"""Run the stream app as a faust worker in this process (what ``vigie stream worker`` does)."""

from __future__ import annotations

import asyncio
import gc
import logging

import faust

from vigie.core.logs import install_repeat_filter
from vigie.core.settings import VigieSettings
from vigie.core.topics import ensure_named_topics, ensure_topics
from vigie.stream import lifecycle, metrics, watchdog
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


class _Worker(faust.Worker):
    """faust's worker, whose logging keeps Vigie's lines and rate-limits the Kafka clients' repeated errors,
    with the stall watchdog running from its first start (``vigie.stream.watchdog``)."""

    stream_app: StreamApp
    _watchdog: asyncio.Future[None]

    def _setup_logging(self) -> None:
        super()._setup_logging()
        keep_vigie_lines(self.loglevel)

    async def on_first_start(self) -> None:
        await super().on_first_start()
        self._watchdog = asyncio.ensure_future(watchdog.watch(self.stream_app))

    async def on_startup_finished(self) -> None:
        await super().on_startup_finished()
        tune_garbage_collector()
        lifecycle.ready(self.stream_app)


#: Container allocations between two young-generation collections (CPython's default is 700).
GC_YOUNG_THRESHOLD = 50_000


def tune_garbage_collector() -> None:
    """Collect cycles less often: a batch allocates and frees (by reference counting) tens of thousands of
    small containers, and with the default threshold the collector ran every few hundred of them, walking
    the generations each time. What the start-up built (modules, faust's services) is frozen out of the
    collections. Measured with ``bench.stream``: 190-200 -> 157-166 CPU µs per answer (docs/performance.md)."""
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, 20, 20)


def keep_vigie_lines(faust_level: str | int | None = None) -> None:
    """After faust configured logging: Vigie's loggers at INFO, faust's and mode's at the worker's
    ``--log-level`` (``vigie.core.logs.configure`` had quietened them to WARNING: ``--log-level info`` showed
    none of faust's recovery lines), and one line per window for a Kafka client's repeated error (a broker
    down: thousands a minute otherwise)."""
    for handler in logging.getLogger().handlers:
        if handler.level > logging.INFO:
            handler.setLevel(logging.INFO)
    logging.getLogger("vigie").setLevel(logging.INFO)
    if faust_level is not None:
        level = faust_level.upper() if isinstance(faust_level, str) else faust_level
        for name in ("faust", "mode"):
            logging.getLogger(name).setLevel(level)
    install_repeat_filter()


def run_worker(settings: VigieSettings, *, loglevel: str = "warning") -> None:
    ensure_topics(settings.kafka)
    stream_app = create_app(settings)
    ensure_changelog_topics(stream_app)
    metrics.serve(settings.stream.metrics_port)
    worker = _Worker(stream_app.app, loglevel=loglevel, quiet=True)
    worker.stream_app = stream_app
    worker.execute_from_commandline()
