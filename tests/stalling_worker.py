"""A stream worker whose fetch loop is cancelled on its first fetch of learning events
(``python -m tests.stalling_worker``).

faust's fetcher takes a cancellation outside a rebalance or a shutdown for its end, silently: the worker
then held its partitions and read nothing. It must end instead (the stall watchdog,
``vigie.stream.watchdog``), so that a restarted one reads on from the commit points. Settings come from
the environment, as for a real worker.
"""

from __future__ import annotations

import asyncio
from typing import Any

from vigie.core.settings import VigieSettings
from vigie.stream.consumer import BatchConsumer
from vigie.stream.worker import run_worker

_dispatch = BatchConsumer._dispatch


async def _failing_dispatch(self: BatchConsumer, records: Any, active: Any) -> None:
    if any(tp.topic in self.source_topics and batch for tp, batch in records.items()):
        raise asyncio.CancelledError  # what a future cancelled under the loop raises in it
    await _dispatch(self, records, active)


if __name__ == "__main__":
    BatchConsumer._dispatch = _failing_dispatch  # type: ignore[method-assign]
    run_worker(VigieSettings(), loglevel="info")
