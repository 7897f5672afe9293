"""A broker down makes the Kafka clients log every reconnection: one line per window, with a count."""

from __future__ import annotations

import logging

import pytest

from vigie.core.logs import RepeatFilter

pytestmark = pytest.mark.unit


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _record(name: str, level: int, msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, args, None)


def test_a_minute_of_connection_errors_is_one_line_then_one_with_the_count() -> None:
    clock = _Clock()
    repeats = RepeatFilter(window_s=60)
    repeats._clock = clock
    passed = []
    for i in range(3600):  # what a worker logged per minute with the broker down
        clock.now = i / 60
        record = _record("aiokafka.conn", logging.ERROR, "Unable connect to %r: %s", f"node-{i % 3}", "refused")
        if repeats.filter(record):
            passed.append(record.getMessage())
    assert len(passed) == 1
    clock.now = 61.0
    record = _record("aiokafka.conn", logging.ERROR, "Unable connect to %r: %s", "node-1", "refused")
    assert repeats.filter(record)
    assert record.getMessage() == "Unable connect to 'node-1': refused [3599 more like this in the last 60s]"


def test_other_loggers_and_info_lines_pass_untouched() -> None:
    repeats = RepeatFilter(window_s=60)
    for _ in range(5):
        assert repeats.filter(_record("vigie.stream.pipeline", logging.WARNING, "dead-lettering %s", "t[0]@1"))
        assert repeats.filter(_record("kafka.conn", logging.INFO, "connecting"))


def test_distinct_errors_are_each_shown_once() -> None:
    repeats = RepeatFilter(window_s=60)
    kinds = ["Connection failed: %s", "Bootstrap %s not ready", "Connection lost: %s"]
    shown = [repeats.filter(_record("kafka.net.manager", logging.ERROR, k, "x")) for k in kinds * 10]
    assert sum(shown) == 3
