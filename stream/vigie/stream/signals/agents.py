"""faust wiring of the signals: a pupil-keyed table, the pipeline's processor, and the day-boundary timer.

The table uses raw ``str`` keys and ``use_partitioner=True``: its changelog partition is then
murmur2(pupil key), the pupil's partition on the learning-events topic, whatever faust's "current
event" is inside a ``take_events`` batch; and the timer may write to it outside any event.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from vigie.core.contract.events import LearningEvent, SignalChanged
from vigie.core.topics import LEARNING_EVENTS, SIGNALS
from vigie.stream.app import StreamApp
from vigie.stream.emit import ChangelogTable
from vigie.stream.processor import Emission
from vigie.stream.signals.engine import SignalEngine

log = logging.getLogger(__name__)

#: Wall-clock period of the timer; it only works when some partition's event time crossed a day.
TICK_SECONDS = 1.0


def emissions(changes: Sequence[SignalChanged]) -> list[Emission]:
    return [Emission(SIGNALS, change.student_id, change) for change in changes]


class SignalsProcessor:
    """The pipeline's per-pupil processor of dropout signals (state in the ``signals-state`` table)."""

    name = "signals"

    def __init__(self, engine: SignalEngine) -> None:
        self.engine = engine

    def process(self, events: Sequence[LearningEvent]) -> list[Emission]:
        return emissions(self.engine.process(events))


def register_signals(stream_app: StreamApp) -> SignalsProcessor:
    """Add the signals processor to the pipeline and its timer to the app."""
    app, settings = stream_app.app, stream_app.settings
    table: Any = app.Table(
        "signals-state",
        default=None,
        key_type=str,
        partitions=settings.kafka.partitions,
        use_partitioner=True,
    )
    # faust derives the key codec from key_type (json for str: '"abc"'); raw bytes of the pseudonym are
    # what the producers hash, so the changelog lands on the pupil's own partition.
    table.key_serializer = "raw"
    # Values are the engine's own bytes (``PupilSignals.encode``); a changelog written with the former JSON
    # codec is still read (``PupilSignals.decode``).
    table.value_serializer = "raw"
    # The changelog topic was built with the JSON codecs when the table was registered: rebuilt, or a
    # restarted worker's recovery fails to decode the raw keys and never ends.
    table.changelog_topic = table._new_changelog_topic()
    state = ChangelogTable(table, stream_app.outbox)
    # The engine's memory (item times, class activity, watermarks) is journalled with its table writes: the
    # pipeline undoes both when the processor fails on a batch (vigie.stream.undo).
    engine = SignalEngine(state, partitions=settings.kafka.partitions, journal=stream_app.outbox.journal)
    processor = SignalsProcessor(engine)
    stream_app.processors.append(processor)
    source_name = LEARNING_EVENTS.name(settings.kafka.topic_prefix)
    signals_topic = stream_app.names[SIGNALS]

    @app.timer(interval=TICK_SECONDS, name="signals-day-boundaries")
    async def day_boundaries() -> None:
        actives = {tp.partition for tp in app.assignor.assigned_actives() if tp.topic == source_name}
        changes = emissions(processor.engine.tick(actives))
        # The tick's signals, then its table writes (in the outbox): see Emitter.send_and_wait.
        records = stream_app.outbox.drain()
        records += [(signals_topic, emission.key.encode(), emission.value()) for emission in changes]
        await stream_app.emitter.send_and_wait(records, stream_app.outbox.state_topics)

    return processor
