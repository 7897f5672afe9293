"""Logging set-up for Vigie's command line (libraries only call ``logging.getLogger(__name__)``).

``VIGIE_LOG_FORMAT=json`` gives one JSON object per line for log shippers; the default is a
readable line. Either way each record carries time, level, logger and message.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time

from vigie.core.errors import ConfigurationError


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class RepeatFilter(logging.Filter):
    """One line per ``window_s`` for a repeated warning or error of a network client (Kafka's): with the
    broker down, the clients log every reconnection attempt, thousands of lines a minute. The first record
    of a kind passes; the next ones are counted, and the first one after the window says how many were held.

    A kind is the logger and the message template (its arguments vary: node ids, back-off delays).
    """

    def __init__(self, window_s: float = 60.0, prefixes: tuple[str, ...] = ("kafka", "aiokafka")) -> None:
        super().__init__()
        self.window_s = window_s
        self.prefixes = prefixes
        self._seen: dict[tuple[str, int, str], list[float]] = {}  # kind -> [window start, held back]
        self._clock = time.monotonic

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING or not record.name.startswith(self.prefixes):
            return True
        kind = (record.name, record.levelno, str(record.msg))
        now = self._clock()
        seen = self._seen.get(kind)
        if seen is not None and now - seen[0] < self.window_s:
            seen[1] += 1
            return False
        if len(self._seen) > 1000:  # many distinct kinds: forget the old windows rather than grow
            self._seen.clear()
        self._seen[kind] = [now, 0]
        if seen is not None and seen[1]:
            record.msg = f"{record.msg} [{int(seen[1])} more like this in the last {self.window_s:.0f}s]"
        return True


def install_repeat_filter(window_s: float = 60.0) -> None:
    """Put one ``RepeatFilter`` on every handler of the root logger (once)."""
    shared = RepeatFilter(window_s)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RepeatFilter) for f in handler.filters):
            handler.addFilter(shared)


LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def configure(level: str = "INFO") -> None:
    if level.upper() not in LEVELS:
        raise ConfigurationError(f"VIGIE_LOG_LEVEL / --log-level={level!r}: one of {', '.join(LEVELS)}")
    log_format = os.environ.get("VIGIE_LOG_FORMAT", "text")
    if log_format not in ("text", "json"):
        raise ConfigurationError(f"VIGIE_LOG_FORMAT={log_format!r}: text or json")
    handler = logging.StreamHandler(sys.stderr)
    if os.environ.get("VIGIE_LOG_FORMAT", "text") == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
    handler.addFilter(RepeatFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("kafka", "aiokafka", "faust", "mode", "clickhouse_connect"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
