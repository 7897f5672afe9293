"""The stall watchdog's decision: a worker that rebalances without fetching anything for too long, or
whose fetch loop ended, is stalled; a quiet worker with nothing to read is not."""

from __future__ import annotations

import asyncio

from vigie.stream.watchdog import StallWatch, task_stacks


def test_a_worker_with_nothing_to_read_never_stalls():
    watch = StallWatch(stall_s=10)
    assert all(
        watch.stalled(rebalancing=False, pulse=3, fetch_loop_ended=False, now=t) is None for t in range(0, 500, 5)
    )


def test_a_rebalance_without_any_fetch_stalls_after_the_delay():
    watch = StallWatch(stall_s=10)
    assert watch.stalled(rebalancing=True, pulse=7, fetch_loop_ended=False, now=100) is None
    assert watch.stalled(rebalancing=True, pulse=7, fetch_loop_ended=False, now=105) is None
    why = watch.stalled(rebalancing=True, pulse=7, fetch_loop_ended=False, now=110)
    assert why is not None and "10 s without any fetch" in why


def test_a_recovery_that_reads_is_not_a_stall():
    watch = StallWatch(stall_s=10)
    for step, now in enumerate(range(0, 300, 5)):  # one fetch of changelog records per look
        assert watch.stalled(rebalancing=True, pulse=step, fetch_loop_ended=False, now=now) is None
    # then it stops reading: stalled once the delay has passed since the last fetch
    last = 295
    assert watch.stalled(rebalancing=True, pulse=59, fetch_loop_ended=False, now=last + 5) is None
    assert watch.stalled(rebalancing=True, pulse=59, fetch_loop_ended=False, now=last + 10) is not None


def test_the_delay_starts_again_after_a_rebalance_ends():
    watch = StallWatch(stall_s=10)
    assert watch.stalled(rebalancing=True, pulse=1, fetch_loop_ended=False, now=0) is None
    assert watch.stalled(rebalancing=False, pulse=1, fetch_loop_ended=False, now=8) is None
    assert watch.stalled(rebalancing=True, pulse=1, fetch_loop_ended=False, now=9) is None
    assert watch.stalled(rebalancing=True, pulse=1, fetch_loop_ended=False, now=18) is None
    assert watch.stalled(rebalancing=True, pulse=1, fetch_loop_ended=False, now=19) is not None


def test_an_ended_fetch_loop_is_a_stall_at_once():
    watch = StallWatch(stall_s=10)
    why = watch.stalled(rebalancing=False, pulse=4, fetch_loop_ended=True, now=0)
    assert why == "the fetch loop ended outside a shutdown"


def test_the_tasks_are_shown_with_their_whole_chain_of_awaits():
    async def waits_for_the_broker() -> None:
        await asyncio.sleep(10)

    async def recovers() -> None:
        await waits_for_the_broker()

    async def look() -> str:
        task = asyncio.ensure_future(recovers())
        await asyncio.sleep(0.01)
        try:
            return task_stacks()
        finally:
            task.cancel()

    stacks = asyncio.run(look())
    assert "recovers" in stacks and "waits_for_the_broker" in stacks
    assert stacks.index("recovers") < stacks.index("waits_for_the_broker")


def test_held_partitions_left_out_of_the_fetch_stall_after_the_delay():
    from faust.types import TP

    left = frozenset({TP("learning-events.v1", 0), TP("learning-events.v1", 2)})
    watch = StallWatch(stall_s=10)
    assert watch.stalled(rebalancing=False, pulse=1, fetch_loop_ended=False, now=0, left_out=left) is None
    assert watch.stalled(rebalancing=False, pulse=2, fetch_loop_ended=False, now=5, left_out=left) is None
    why = watch.stalled(rebalancing=False, pulse=3, fetch_loop_ended=False, now=10, left_out=left)
    assert why == "learning-events.v1[0], learning-events.v1[2] held and not fetched from for 10 s"


def test_partitions_left_out_during_a_rebalance_or_for_a_while_are_not_a_stall():
    from faust.types import TP

    left = frozenset({TP("learning-events.v1", 1)})
    watch = StallWatch(stall_s=10)
    for now in range(0, 60, 5):  # a rebalance that fetches (the partitions wait for their recovery)
        assert watch.stalled(rebalancing=True, pulse=now, fetch_loop_ended=False, now=now, left_out=left) is None
    assert watch.stalled(rebalancing=False, pulse=60, fetch_loop_ended=False, now=60, left_out=left) is None
    assert watch.stalled(rebalancing=False, pulse=61, fetch_loop_ended=False, now=65) is None  # back in: reset
    assert watch.stalled(rebalancing=False, pulse=62, fetch_loop_ended=False, now=70, left_out=left) is None
    assert watch.stalled(rebalancing=False, pulse=63, fetch_loop_ended=False, now=75, left_out=left) is None
    assert watch.stalled(rebalancing=False, pulse=64, fetch_loop_ended=False, now=80, left_out=left) is not None
