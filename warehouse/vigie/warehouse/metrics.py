"""Prometheus metrics of the sink (optional: the ``metrics`` extra installs prometheus_client).

Labels are topic and table names and partition numbers: bounded. Without prometheus_client, no-ops.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from vigie.core.metrics_endpoint import serve as serve_metrics

log = logging.getLogger(__name__)

try:
    from prometheus_client import Counter, Gauge, Histogram
except ImportError:  # pragma: no cover - the metrics extra is not installed
    _enabled = False
else:
    _enabled = True
    CONSUMED = Counter("vigie_sink_consumed", "Messages read from Kafka by the sink.", ["topic"])
    INVALID = Counter("vigie_sink_invalid_skipped", "Messages the sink skipped as invalid.", ["topic"])
    ROWS = Counter("vigie_sink_rows", "Rows inserted into the warehouse.", ["table"])
    DUPLICATES = Counter("vigie_sink_duplicates_skipped", "Rows not inserted: their event id was stored.", ["table"])
    RETRIES = Counter("vigie_sink_retries", "Batches the warehouse refused for a while (retried).")
    FLUSH_SECONDS = Histogram(
        "vigie_sink_flush_seconds",
        "Time to write a batch to the warehouse and commit its offsets.",
        buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
    )
    LAST_INSERT = Gauge("vigie_sink_last_insert_timestamp_seconds", "Unix time of the last successful flush.")
    LAG = Gauge("vigie_sink_consumer_lag", "Messages behind the end of the partition.", ["topic", "partition"])


def serve(port: int | None) -> None:
    """Expose /metrics on 127.0.0.1:``port`` (``None`` or 0: not served)."""
    if _enabled:
        serve_metrics(port, "sink")


def consumed(topic: str, n: int) -> None:
    if _enabled:
        CONSUMED.labels(topic).inc(n)


def invalid(topic: str) -> None:
    if _enabled:
        INVALID.labels(topic).inc()


def written(table: str, inserted: int, skipped: int) -> None:
    if _enabled:
        ROWS.labels(table).inc(inserted)
        DUPLICATES.labels(table).inc(skipped)


def retried() -> None:
    if _enabled:
        RETRIES.inc()


def flushed(started: float) -> None:
    if _enabled:
        FLUSH_SECONDS.observe(time.perf_counter() - started)
        LAST_INSERT.set(time.time())


def lag(consumer: Any, polled: dict[Any, list[Any]]) -> None:
    """The lag of the partitions just polled: the consumer's known end offset minus the next offset to read
    (both known locally: no request to the broker)."""
    if not _enabled:
        return
    for tp, records in polled.items():
        highwater = consumer.highwater(tp)
        if highwater is not None and records:
            LAG.labels(tp.topic, str(tp.partition)).set(max(0, highwater - records[-1].offset - 1))
