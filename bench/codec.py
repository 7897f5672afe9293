"""Decoding cost per event: pydantic one event at a time vs the batch decoder (msgspec mirror, columns).

``python -m bench.codec [--events 20000] [--repeat 3]``

For each kind the sink stores (answers, session events, mastery updates, signals), ``--events`` distinct
valid events are encoded as bench.sink makes them, then decoded: one by one through pydantic
(``decode_learning_event`` / ``decode``) and as one batch through ``decode_learning_event_columns`` /
``decode_columns``. Prints CPU µs per event (best of ``--repeat``) and the ratio; checks that the batch path
decided every event itself (none handed to pydantic).
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from typing import Any

from bench.sink import MAKERS, _pupils
from vigie.core.contract.codec import decode, decode_columns, decode_learning_event, decode_learning_event_columns
from vigie.core.contract.events import MasteryUpdated, SignalChanged


def _best(work: Callable[[], Any], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        work()
        best = min(best, time.process_time() - started)
    return best


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    one: dict[str, Callable[[bytes], Any]] = {
        "answers": decode_learning_event,
        "session_events": decode_learning_event,
        "mastery_updates": lambda raw: decode(raw, MasteryUpdated),
        "signals": lambda raw: decode(raw, SignalChanged),
    }
    batch: dict[str, Callable[[list[bytes]], Any]] = {
        "answers": decode_learning_event_columns,
        "session_events": decode_learning_event_columns,
        "mastery_updates": lambda values: decode_columns(values, MasteryUpdated),
        "signals": lambda values: decode_columns(values, SignalChanged),
    }
    pupils = _pupils(5_000)
    print(f"{'kind':16} {'pydantic µs/event':>18} {'batch µs/event':>15} {'ratio':>6}")
    for name, (_, make) in MAKERS.items():
        values = [value for value, _ in make(random.Random(7), pupils, args.events)]
        _, decided = batch[name](values)
        if decided:
            raise SystemExit(f"{name}: {len(decided)} events handed to pydantic by the batch path")
        slow = _best(lambda name=name, values=values: [one[name](v) for v in values], args.repeat) / len(values)
        fast = _best(lambda name=name, values=values: batch[name](values), args.repeat) / len(values)
        print(f"{name:16} {slow * 1e6:>18.2f} {fast * 1e6:>15.2f} {slow / fast:>6.1f}")


if __name__ == "__main__":
    main()
