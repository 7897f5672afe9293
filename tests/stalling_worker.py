"""A stream worker that stalls once, the way faust workers stalled (``python -m tests.stalling_worker``).

``VIGIE_TEST_STALL`` says how:

- ``fetch``: the fetch loop is cancelled on its first fetch of learning events; faust's fetcher takes a
  cancellation outside a rebalance or a shutdown for its end, silently;
- ``recovery``: faust's recovery waits for ever on its first step (where a broker request that outlived
  its timeout ended faust's recovery task).

Either way the worker used to hold its partitions and read nothing. The stall watchdog
(``vigie.stream.watchdog``) must start it again, and the run it starts (same command, same environment:
``VIGIE_TEST_STALLED`` tells it the fault happened) must read on from the commit points. Settings come
from the environment, as for a real worker.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from faust.tables.recovery import Recovery

from vigie.core.settings import VigieSettings
from vigie.stream.consumer import BatchConsumer
from vigie.stream.worker import run_worker

_dispatch = BatchConsumer._dispatch


def _first_time() -> bool:
    if os.environ.get("VIGIE_TEST_STALLED") is not None:
        return False
    os.environ["VIGIE_TEST_STALLED"] = str(os.getpid())
    return True


async def _cancelled_dispatch(self: BatchConsumer, records: Any, active: Any) -> None:
    if any(tp.topic in self.source_topics and batch for tp, batch in records.items()) and _first_time():
        raise asyncio.CancelledError  # what a future cancelled under the loop raises in it
    await _dispatch(self, records, active)


_build_highwaters = Recovery._build_highwaters


async def _hanging_highwaters(self: Recovery, *args: Any, **kwargs: Any) -> None:
    if _first_time():
        await asyncio.Event().wait()
    await _build_highwaters(self, *args, **kwargs)


if __name__ == "__main__":
    if os.environ["VIGIE_TEST_STALL"] == "fetch":
        BatchConsumer._dispatch = _cancelled_dispatch  # type: ignore[method-assign]
    else:
        Recovery._build_highwaters = _hanging_highwaters  # type: ignore[method-assign]
    run_worker(VigieSettings(), loglevel="info")
