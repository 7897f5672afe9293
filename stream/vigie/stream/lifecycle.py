"""One log line when a worker is ready and each time it takes or gives up partitions.

faust says nothing at its default level; an operator otherwise cannot tell a worker that consumes from one
still waiting for its group. Logged on ``vigie.stream.lifecycle``, which ``vigie.stream.worker`` keeps at INFO
whatever faust's own level.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, cast

from vigie.stream.app import StreamApp

log = logging.getLogger(__name__)


def describe(partitions: Iterable[Any]) -> str:
    """``{TP(t, 0), TP(t, 2)}`` -> ``t[0,2]`` (one line, whatever the count)."""
    by_topic: dict[str, list[int]] = defaultdict(list)
    for tp in partitions:
        by_topic[tp.topic].append(tp.partition)
    return "; ".join(f"{topic}[{','.join(map(str, sorted(p)))}]" for topic, p in sorted(by_topic.items())) or "none"


def register_lifecycle(app: StreamApp) -> None:
    faust_app = app.app
    source = app.names

    def _sources(partitions: Iterable[Any]) -> list[Any]:
        # The changelog partitions follow the source's: the line names what is consumed.
        topics = set(source.values())
        return [tp for tp in partitions if tp.topic in topics]

    async def _assigned(sender: Any, *args: Any, **_: Any) -> None:
        assigned = set(args[0]) if args else set()
        log.info("worker took %d partition(s): %s", len(assigned), describe(_sources(assigned)))

    async def _revoked(sender: Any, *args: Any, **_: Any) -> None:
        revoked = set(args[0]) if args else set()
        if revoked:
            log.info("worker gave up %d partition(s): %s", len(revoked), describe(_sources(revoked)))

    # mode's signal types want a positional-only sender; these take it positionally.
    faust_app.on_partitions_assigned.connect(cast(Any, _assigned))
    faust_app.on_partitions_revoked.connect(cast(Any, _revoked))


def ready(app: StreamApp) -> None:
    """The line of a worker that has started (its tables recovered) and consumes."""
    log.info("worker ready: group %s on %s", app.app.conf.id, app.settings.kafka.bootstrap_servers)
