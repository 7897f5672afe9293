"""Prometheus metrics of a stream worker (optional: the ``metrics`` extra installs prometheus_client).

Labels stay bounded: topic names, contract field names of a dead letter's reason, partition numbers.
Never a pupil, class or school. Without prometheus_client every hook is a no-op.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from vigie.core.errors import InvalidEventError
from vigie.core.metrics_endpoint import serve as serve_metrics

log = logging.getLogger(__name__)

try:
    from prometheus_client import Counter as _Counter
    from prometheus_client import Gauge, Histogram
except ImportError:  # pragma: no cover - the metrics extra is not installed
    _enabled = False
else:
    _enabled = True
    EVENTS_IN = _Counter("vigie_stream_events_in", "Messages taken from a topic by the pipeline.", ["topic"])
    EVENTS_OUT = _Counter("vigie_stream_events_out", "Records produced by the pipeline, per topic.", ["topic"])
    DEAD_LETTERS = _Counter(
        "vigie_stream_dead_letters", "Invalid messages sent to the dead-letter topic, by reason.", ["reason"]
    )
    BATCH_SECONDS = Histogram(
        "vigie_stream_batch_seconds",
        "Time to process a batch and have its outputs acknowledged.",
        buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    )
    BATCH_EVENTS = Histogram(
        "vigie_stream_batch_events", "Messages per batch.", buckets=(1, 10, 50, 100, 250, 500, 1000, 5000)
    )
    LAG = Gauge("vigie_stream_consumer_lag", "Messages behind the end of the partition.", ["topic", "partition"])
    LAST_BATCH = Gauge("vigie_stream_last_batch_timestamp_seconds", "Unix time of the last acknowledged batch.")


def serve(port: int | None) -> None:
    """Expose /metrics on 127.0.0.1:``port`` (``None`` or 0: not served)."""
    if _enabled:
        serve_metrics(port, "stream")


def dead_letter(error: Exception) -> None:
    """Count a dead letter by the contract field at fault (a field name the contract knows, never the
    input's own text: an unknown field's name comes from the message and would make labels unbounded);
    ``processing`` when a processor failed on a valid event."""
    if _enabled:
        reason = reason_of(error.field) if isinstance(error, InvalidEventError) else "processing"
        DEAD_LETTERS.labels(reason).inc()


def reason_of(field: str | None) -> str:
    """``answer.score`` -> ``score``; a name the contract does not know -> ``unknown_field``; none -> ``payload``."""
    if not field:
        return "payload"
    known = _contract_fields() | {"key"}  # "key": the message key is not the pupil's pseudonym
    return next((part for part in reversed(field.split(".")) if part in known), "unknown_field")


_FIELDS: frozenset[str] | None = None


def _contract_fields() -> frozenset[str]:
    global _FIELDS
    if _FIELDS is None:
        from pydantic import BaseModel

        from vigie.core.contract import events

        models = [m for m in vars(events).values() if isinstance(m, type) and issubclass(m, BaseModel)]
        _FIELDS = frozenset(name for model in models for name in model.model_fields)
    return _FIELDS


def batch_done(
    consumer: Any,
    partitions: Mapping[Any, Sequence[Any]],
    records: Sequence[tuple[str, bytes, bytes | None]],
    started: float,
) -> None:
    """After a batch is acknowledged: counts in and out, its latency, and the lag of its partitions."""
    if not _enabled or not partitions:
        return
    BATCH_SECONDS.observe(time.perf_counter() - started)
    BATCH_EVENTS.observe(sum(len(batch) for batch in partitions.values()))
    for tp, batch in partitions.items():
        EVENTS_IN.labels(tp.topic).inc(len(batch))
    for topic, n in Counter(record[0] for record in records).items():
        EVENTS_OUT.labels(topic).inc(n)
    LAST_BATCH.set(time.time())
    for tp, batch in partitions.items():
        try:
            highwater = consumer.highwater(tp)
        except Exception:  # no fetch yet for this partition
            highwater = None
        if highwater is not None and batch:
            LAG.labels(tp.topic, str(tp.partition)).set(max(0, highwater - batch[-1].offset - 1))
