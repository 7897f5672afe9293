"""Logging set-up for Vigie's command line (libraries only call ``logging.getLogger(__name__)``).

``VIGIE_LOG_FORMAT=json`` gives one JSON object per line for log shippers; the default is a
readable line. Either way each record carries time, level, logger and message.
"""

from __future__ import annotations

import json
import logging
import os
import sys

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
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("kafka", "aiokafka", "faust", "mode", "clickhouse_connect"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
