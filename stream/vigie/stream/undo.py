"""The journal of a batch's changes, so that a processor that raised on the batch can be undone whole.

A processor's batch changes its table (through ``vigie.stream.emit.ChangelogTable``) and, for the signals
engine, data each worker keeps in memory: item response times, class activity, watermarks. When the
processor raises, the pipeline replays the batch event by event (``vigie.stream.pipeline``); whatever the
failed attempt changed must be undone first, or the replay counts its events twice. Each change is
journalled as the call that undoes it, in the ``Outbox``'s journal, and ``Outbox.rollback`` makes those
calls, last first.

Cheap on the hot path: an entry holds what the change replaced (an item's figures, a class's figures
before its new day, the pupil a set gained), never a copy of a structure except the watermarks (one per
partition), copied once per batch; a change that changes nothing (a pupil already active that day) adds no
entry, and the journal is emptied when the batch's records are drained. The engine run outside a worker
(``vigie evaluate signals``, ``bench.signals_equivalence``) journals nothing: its journal is ``None``.

What is not put back: the order in which the bounded item times and classes forget (least recently used
first). An undone item or class counts as just used, which only matters once a worker holds more than
their bounds (200,000 items, 500,000 classes).
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any

#: One change: (the call that undoes it, then its arguments); flat, one tuple per change.
Undo = tuple[Callable[..., object], *tuple[Any, ...]]

#: The changes since the journal was last emptied, in order (undone last first).
Journal = list[Undo]

#: A mapping's value that was absent before a change (``put_back`` deletes the key again).
ABSENT: Any = object()


def put_back(mapping: MutableMapping[Any, Any], key: Any, previous: Any) -> None:
    """Give ``key`` its ``previous`` value in ``mapping`` again (or none, if it was ``ABSENT``)."""
    if previous is ABSENT:
        mapping.pop(key, None)
    else:
        mapping[key] = previous


def undo(journal: Journal, since: int = 0) -> None:
    """Undo the changes journalled after the first ``since``, last first, and forget them."""
    while len(journal) > since:
        call, *arguments = journal.pop()
        call(*arguments)
