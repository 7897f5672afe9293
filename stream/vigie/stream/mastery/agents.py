"""Wire mastery into the stream app: the changelog-backed table, the parameter feed, the processor.

The table is keyed by the raw pupil pseudonym and uses the producer's partitioner
(``use_partitioner=True``): a changelog record goes to murmur2(pupil) like the pupil's learning
events, so state and input are co-partitioned even though, inside a batch of ``take_events``, faust's
"current event" is not the event of the pupil being written.
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping, Sequence
from typing import Any

from vigie.core.contract.events import LearningEvent
from vigie.stream.app import StreamApp
from vigie.stream.emit import ChangelogTable
from vigie.stream.mastery.params import ParameterBook, ParameterFeed
from vigie.stream.mastery.processor import MasteryProcessor
from vigie.stream.processor import Emission

log = logging.getLogger(__name__)

TABLE_NAME = "mastery"
#: How long the first batch waits for the parameters at start before using what it has. It blocks the event
#: loop (heartbeats included): well under the session timeout, or the group would evict the worker.
PARAMS_START_TIMEOUT_S = 5.0


def register_mastery(stream_app: StreamApp) -> MasteryProcessor:
    settings = stream_app.settings
    table: Any = stream_app.app.Table(
        TABLE_NAME,
        default=None,
        key_type=str,
        value_type=bytes,
        use_partitioner=True,
        partitions=settings.kafka.partitions,
        help="Mastery state per pupil: learner model (or BKT) state per skill + recent answer ids (dedup).",
    )
    # faust derives serializers from the types and falls back to JSON for str: the key would travel
    # as '"<pupil>"' (quoted) and hash to another partition than the pupil's events. Raw bytes, and the
    # changelog topic (already built when the table was registered) rebuilt with them.
    table.key_serializer = "raw"
    table.value_serializer = "raw"
    table.changelog_topic = table._new_changelog_topic()
    feed = ParameterFeed(settings.kafka, ParameterBook())
    state = ChangelogTable(table, stream_app.outbox)
    processor = FeedingMasteryProcessor(state, feed, threshold=settings.stream.mastery_threshold,
                                        model=settings.stream.mastery_model)  # fmt: skip

    @stream_app.app.task
    async def start_parameter_feed() -> None:
        feed.start()

    stream_app.processors.append(processor)
    return processor


class FeedingMasteryProcessor(MasteryProcessor):
    """The processor of a worker: parameters come from the live feed of the SKILL_PARAMETERS topic."""

    def __init__(
        self, table: MutableMapping[str, Any], feed: ParameterFeed, *, threshold: float, model: str = "learner"
    ) -> None:
        super().__init__(table, feed.book, threshold=threshold, model=model)
        self.feed = feed

    def process(self, events: Sequence[LearningEvent]) -> list[Emission]:
        if not self.feed.ready.is_set():
            self.feed.start()
            if not self.feed.wait_ready(PARAMS_START_TIMEOUT_S):
                log.warning("skill parameters not loaded after %.0fs: using what is known", PARAMS_START_TIMEOUT_S)
        return super().process(events)
