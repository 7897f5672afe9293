"""Start a worker again when it holds partitions but no longer moves.

A faust worker can stall for good without a word: a recovery step that waits longer than the broker's
request timeout ends faust's recovery task (``Recovery._wait`` takes the timeout for a stop), a fetch loop
cancelled outside a rebalance is not restarted, and the partitions stay assigned to a worker that reads
nothing — the group never gives them to another one. Nothing is lost (no offset is committed past what
was processed), but the stream stops.

Stalled means: the fetch loop ended outside a shutdown, or a rebalance has lasted ``stream.stall_s`` (60 s)
without a single fetch handed on (changelog records during recovery count: a long recovery that progresses is
not a stall), or, once the recovery is complete and no rebalance runs, learning-event partitions the worker
holds have been kept out of faust's active set (so never fetched from) for ``stall_s``. (A takeover in CI on
3 December 2026 ended with the survivor reading on its old partitions and never the two it took over, without a
word; whether faust had left them out of its active set was not recorded: this rule catches that case and
names them.) The worker then logs where every task waits (the evidence an operator needs) and replaces itself
with a fresh run of the same command (``exec``: same process id, arguments, environment and log), which
rejoins the group once the broker has dropped the stalled member (its session timeout), recovers its
tables from the changelogs and reads on from the commit points. No supervisor is needed for that; if the
``exec`` fails the worker exits with ``EXIT_STALLED`` for its supervisor to restart it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from typing import Any, NoReturn, cast

from vigie.stream.app import StreamApp
from vigie.stream.consumer import BatchConsumer
from vigie.stream.lifecycle import describe

log = logging.getLogger(__name__)

CHECK_EVERY_S = 5.0
#: Exit status of a stalled worker that could not start itself again (EX_TEMPFAIL: start it again).
EXIT_STALLED = 75


class StallWatch:
    """Decides, from one look every few seconds, whether the worker is stalled (no I/O of its own)."""

    def __init__(self, stall_s: float) -> None:
        self.stall_s = stall_s
        self._pulse = -1
        self._still_since: float | None = None
        self._inactive_since: float | None = None

    def stalled(
        self,
        *,
        rebalancing: bool,
        pulse: int,
        fetch_loop_ended: bool,
        now: float,
        left_out: frozenset[Any] = frozenset(),
    ) -> str | None:
        """Why the worker is stalled, or None. ``pulse`` grows with every fetch handed on; ``left_out``: the
        source partitions held but kept out of the fetch, once the recovery is complete (empty during one)."""
        if fetch_loop_ended:
            return "the fetch loop ended outside a shutdown"
        if left_out and not rebalancing:
            if self._inactive_since is None:
                self._inactive_since = now
            elif now - self._inactive_since >= self.stall_s:
                names = ", ".join(sorted(f"{tp.topic}[{tp.partition}]" for tp in left_out))
                return f"{names} held and not fetched from for {now - self._inactive_since:.0f} s"
        else:
            self._inactive_since = None
        if pulse != self._pulse or not rebalancing:
            self._pulse, self._still_since = pulse, (now if rebalancing else None)
            return None
        if self._still_since is None:
            self._still_since = now
        if now - self._still_since >= self.stall_s:
            return f"a rebalance has lasted {now - self._still_since:.0f} s without any fetch"
        return None


def task_stacks() -> str:
    """Where every task of this loop waits: its chain of awaits, outermost first, one line per frame
    (``Task.get_stack`` shows a suspended task's outermost frame only)."""
    lines = []
    for task in asyncio.all_tasks():
        lines.append(f"- {task.get_name()}")
        awaited: Any = task.get_coro()
        while awaited is not None:
            frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "gi_frame", None)
            if frame is not None:
                lines.append(f"    {frame.f_code.co_filename}:{frame.f_lineno} {frame.f_code.co_name}")
            awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "gi_yieldfrom", None)
    return "\n".join(lines)


def state_of(faust_app: Any, consumer: BatchConsumer) -> str:
    """One line of what faust believes: the assignment, what is paused, the recovery's progress."""
    recovery = faust_app.tables.recovery
    try:
        assignment, paused = consumer.assignment(), consumer._paused_partitions
    except Exception as error:  # not started: nothing to describe
        return f"consumer unavailable: {error!r}"
    return (
        f"generation {faust_app.consumer_generation_id}; assigned {describe(assignment)}; "
        f"paused {describe(paused)}; recovery in progress {recovery.in_recovery}, "
        f"completed {recovery.completed.is_set()}, changelog records left {recovery.active_remaining_total()}"
    )


def left_out(faust_app: Any, consumer: BatchConsumer) -> frozenset[Any]:
    """The learning-event partitions this worker holds but does not fetch from (not in faust's active set),
    once its recovery is complete; empty while a recovery runs (partitions are paused then on purpose)."""
    recovery = faust_app.tables.recovery
    if recovery.in_recovery or not recovery.completed.is_set() or consumer._active_partitions is None:
        return frozenset()
    held = {tp for tp in consumer.assignment() if tp.topic in consumer.source_topics}
    return frozenset(held - consumer._active_partitions)


async def watch(app: StreamApp) -> None:
    """Look every ``CHECK_EVERY_S`` for as long as the worker runs. A task of the worker's own, not a faust
    timer: faust starts its timers only once the first recovery is complete, which is where one stalls."""
    faust_app = app.app
    watch = StallWatch(app.settings.stream.stall_s)
    while True:
        await asyncio.sleep(CHECK_EVERY_S)
        consumer = cast(BatchConsumer | None, faust_app._consumer)
        if consumer is None or faust_app.should_stop:
            continue
        try:
            why = watch.stalled(
                rebalancing=bool(faust_app.rebalancing),
                pulse=consumer.deliveries_made,
                fetch_loop_ended=consumer.fetch_loop_ended,
                now=time.monotonic(),
                left_out=left_out(faust_app, consumer),
            )
        except Exception:  # the watchdog's own failure must not end a working worker
            log.exception("the stall watchdog could not look at the worker")
            continue
        if why is None:
            continue
        log.critical("worker stalled (%s); its tasks:\n%s", why, task_stacks())
        log.critical("worker stalled: %s; %s; starting again", why, state_of(faust_app, consumer))
        start_again()


def start_again() -> NoReturn:
    """Replace this process with a fresh run of the command that started it (or exit for a supervisor)."""
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    try:
        os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])
    except OSError as error:
        log.critical("could not start again (%r): exiting with %d", error, EXIT_STALLED)
        logging.shutdown()
        os._exit(EXIT_STALLED)
