"""A stream worker whose fetch loop is cancelled on its first fetch of learning events, once
(``python -m tests.stalling_worker``).

faust's fetcher takes a cancellation outside a rebalance or a shutdown for its end, silently: the worker
then held its partitions and read nothing. The stall watchdog (``vigie.stream.watchdog``) must start it
again, and the run it starts (same command, same environment: ``VIGIE_TEST_STALLED`` tells it the fault
happened) must read on from the commit points. Settings come from the environment, as for a real worker.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from vigie.core.settings import VigieSettings
from vigie.stream.consumer import BatchConsumer
from vigie.stream.worker import run_worker

_dispatch = BatchConsumer._dispatch


async def _cancelled_dispatch(self: BatchConsumer, records: Any, active: Any) -> None:
    if os.environ.get("VIGIE_TEST_STALLED") is None and any(
        tp.topic in self.source_topics and batch for tp, batch in records.items()
    ):
        os.environ["VIGIE_TEST_STALLED"] = str(os.getpid())
        raise asyncio.CancelledError  # what a future cancelled under the loop raises in it
    await _dispatch(self, records, active)


if __name__ == "__main__":
    BatchConsumer._dispatch = _cancelled_dispatch  # type: ignore[method-assign]
    run_worker(VigieSettings(), loglevel="info")
