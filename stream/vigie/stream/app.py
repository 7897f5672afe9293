"""The faust application of the stream and its topics, built from settings (nothing at import time).

``vigie.stream.topology.create_app`` registers the processors and the pipeline on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import faust
from faust.types import TopicT

from vigie.core.settings import VigieSettings
from vigie.core.topics import ALL_TOPICS, LEARNING_EVENTS, TopicSpec, partitions_of
from vigie.stream.consumer import use_batch_consumer
from vigie.stream.emit import Emitter, Outbox
from vigie.stream.processor import PupilProcessor


@dataclass
class StreamApp:
    """The faust app with Vigie's topics (raw bytes in and out: the contract does the parsing)."""

    settings: VigieSettings
    app: faust.App
    topics: dict[TopicSpec, TopicT]
    processors: list[PupilProcessor] = field(default_factory=list)
    #: Changelog records of the processors' tables, produced with the batch's emissions by ``emitter``.
    outbox: Outbox = field(default_factory=Outbox)
    emitter: Emitter = field(init=False)

    def __post_init__(self) -> None:
        self.emitter = Emitter(self.app)
        self.names = {spec: topic.get_topic_name() for spec, topic in self.topics.items()}

    def topic(self, spec: TopicSpec) -> TopicT:
        return self.topics[spec]


#: Seconds without a heartbeat before the broker gives a worker's partitions to the others.
SESSION_TIMEOUT_S = 15.0
HEARTBEAT_INTERVAL_S = 2.0
#: How long a rebalance waits for live members to rejoin.
REBALANCE_TIMEOUT_S = 20.0


def faust_app(settings: VigieSettings, *, app_id: str | None = None) -> faust.App:
    stream = settings.stream
    settings.state_dir.mkdir(parents=True, exist_ok=True)  # faust creates its datadir, not the parents
    app = faust.App(
        app_id or f"{settings.kafka.topic_prefix}-{stream.app_id}",
        broker=f"kafka://{settings.kafka.bootstrap_servers}",
        store="memory://",
        datadir=str(settings.state_dir / "faust"),
        topic_partitions=settings.kafka.partitions,
        topic_replication_factor=settings.kafka.replication_factor,
        topic_allow_declare=True,
        table_standby_replicas=0,
        web_enabled=stream.web_enabled,
        web_port=stream.web_port,
        consumer_auto_offset_reset="earliest",
        # Commits every second (and when partitions are given up); a count-driven commit every 1000 acks
        # was a broker round trip every few milliseconds at full speed.
        broker_commit_every=50_000,
        # One fetch is one pipeline batch (``vigie.stream.consumer``).
        broker_max_poll_records=stream.batch_size,
        broker_commit_interval=1.0,
        # Failover: a killed worker's partitions move once the broker misses its heartbeats for
        # SESSION_TIMEOUT_S (faust's default, 60 s, plus a 60 s rebalance wait kept a restarted or
        # surviving worker idle ~2.5 min). A stopped worker leaves the group at once (SIGTERM).
        broker_session_timeout=SESSION_TIMEOUT_S,
        broker_heartbeat_interval=HEARTBEAT_INTERVAL_S,
        broker_rebalance_timeout=REBALANCE_TIMEOUT_S,
        producer_linger_ms=5,
        producer_max_batch_size=512 * 1024,
        producer_acks=-1,
        # State records are whole JSON values rewritten per pupil and batch: compressed, ~2 KB -> ~0.5 KB an answer.
        producer_compression_type=None if stream.compression == "none" else stream.compression,
        stream_buffer_maxsize=8192,
        # An agent's crash stops the worker (exit code != 0) so that the process supervisor restarts it;
        # a crashed agent left inside a live worker would lose nothing but stall silently.
        agent_supervisor="mode.CrashingSupervisor",
    )
    use_batch_consumer(app, frozenset({LEARNING_EVENTS.name(settings.kafka.topic_prefix)}))
    return app


def stream_topics(app: faust.App, settings: VigieSettings) -> dict[TopicSpec, TopicT]:
    """Every Vigie topic, raw bytes in and out (the contract does the parsing)."""
    prefix = settings.kafka.topic_prefix
    return {
        spec: app.topic(
            spec.name(prefix),
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
            partitions=partitions_of(spec, settings.kafka.partitions),
            internal=False,
        )
        for spec in ALL_TOPICS
    }


__all__ = ["LEARNING_EVENTS", "StreamApp", "faust_app", "stream_topics"]
