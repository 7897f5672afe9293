"""Throughput of the signals processor's logic without Kafka: ``.venv/bin/python -m bench.signals``.

Builds a cohort's events up front (not timed), then times ``SignalEngine.process`` over batches of
the worker's size plus the event-time ticks, as ``vigie evaluate signals`` and the worker run them.
The state store is a dict holding the same bytes the faust table holds.
"""

from __future__ import annotations

import argparse
import random
import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta

from vigie.core.contract.calendar import is_school_day
from vigie.core.contract.events import AnswerSubmitted, LearningEvent, SessionEnded, SessionStarted, make_event_id
from vigie.core.contract.taxonomy import skills_for
from vigie.producers.pseudonym import Pseudonymizer
from vigie.stream.signals.engine import SignalEngine
from vigie.stream.signals.risk_features import FEATURES
from vigie.stream.signals.risk_model import default_model


def cohort(pupils: int, days: int, answers: int, seed: int) -> list[LearningEvent]:
    rng = random.Random(seed)
    names = Pseudonymizer(b"bench-key-0123456789")
    skills = [s.code for s in skills_for("CM1", "mathematiques")]
    events: list[LearningEvent] = []
    n = 0
    for p in range(pupils):
        student, klass = names.student(f"p{p}"), names.school_class(f"c{p // 25}")
        common = {
            "platform": "bench",
            "academy": "lyon",
            "school_uai": "0691234A",
            "class_id": klass,
            "student_id": student,
            "level": "CM1",
        }
        skill_level = rng.random()
        for d in range(days):
            day = date(2025, 9, 1) + timedelta(days=d)
            if not is_school_day(day, "A") or rng.random() < 0.3:
                continue
            moment = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=8 + rng.randrange(8))
            session = f"s{p}-{d}"
            n += 1
            events.append(
                SessionStarted(
                    event_id=make_event_id("bench", str(n)),
                    source_event_id=str(n),
                    occurred_at=moment,
                    session_id=session,
                    **common,
                )
            )
            for _ in range(answers):
                n += 1
                moment += timedelta(seconds=rng.randrange(5, 60))
                correct = rng.random() < skill_level
                events.append(
                    AnswerSubmitted(
                        event_id=make_event_id("bench", str(n)),
                        source_event_id=str(n),
                        occurred_at=moment,
                        session_id=session,
                        subject="mathematiques",
                        skill_code=rng.choice(skills),
                        item_id=f"i{rng.randrange(200)}",
                        correct=correct,
                        score=float(correct),
                        response_time_ms=rng.randrange(1_000, 40_000),
                        **common,
                    )
                )
            n += 1
            events.append(
                SessionEnded(
                    event_id=make_event_id("bench", str(n)),
                    source_event_id=str(n),
                    occurred_at=moment + timedelta(seconds=5),
                    session_id=session,
                    outcome="completed",
                    answers_count=answers,
                    **common,
                )
            )
    events.sort(key=lambda e: e.occurred_at)
    return events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=500)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--answers", type=int, default=10, help="Answers per session.")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--memory", action="store_true", help="Also trace peak memory (slows the run down).")
    args = parser.parse_args()

    events = cohort(args.pupils, args.days, args.answers, args.seed)
    engine = SignalEngine({}, partitions=args.partitions)
    changes = 0
    if args.memory:
        tracemalloc.start()
    started = time.perf_counter()
    for start in range(0, len(events), args.batch):
        changes += len(engine.process(events[start : start + args.batch]))
        changes += len(engine.tick())
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if args.memory else None
    tracemalloc.stop()
    state_bytes = sum(len(v) for v in engine.store.values())
    print(
        f"signals engine: {len(events)} events of {args.pupils} pupils over {args.days} days, "
        f"batches of {args.batch}, {args.partitions} partitions"
    )
    print(f"  throughput      {len(events) / elapsed:,.0f} events/s ({elapsed:.2f} s)")
    print(f"  per event       {1e6 * elapsed / len(events):.1f} µs (rules, dropout-risk features, daily risk scoring)")
    model, x = default_model(), [0.5] * len(FEATURES)
    started = time.perf_counter()
    for _ in range(20_000):
        model.score(x)
    scoring = (time.perf_counter() - started) / 20_000
    print(f"  risk scoring    {1e6 * scoring:.1f} µs per pupil and school day (pure Python, {len(FEATURES)} features)")
    print(f"  signal changes  {changes}")
    print(f"  state per pupil {state_bytes / max(1, len(engine.store)):,.0f} bytes stored (mean)")
    if peak is not None:
        print(f"  peak traced mem {peak / 2**20:,.1f} MiB during processing")


if __name__ == "__main__":
    main()
