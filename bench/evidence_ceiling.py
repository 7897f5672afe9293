"""How precise can any early warning be on the simulator? A ceiling from what its events show, per class day.

    .venv/bin/python -m bench.evidence_ceiling [--train-seeds 101,102,104] [--seeds 7,11] [--json]

Issue 12 asks, on the simulator, for a pupil-level precision of at least 0.5 at recall >= 0.8 with a median
lead of at least 5 school days. This measures whether the simulator's events carry that much evidence,
independently of Vigie's features and model. From the events alone, each pupil's history is rebuilt per
**class day** (a day the pupil's class had a lesson on its platform): present in class or not, sessions
abandoned (no answer, or ended as abandoned), sessions of rapid guessing (half the answers or more under
``RAPID_MS``), answers and successes, homework sessions. Features are those counts over the last
``WINDOWS`` class days and over the whole history (the pupil's own baseline), plus the absences in a row.
A gradient-boosting model (scikit-learn) is fitted on the training seeds (label: the drop-out falls in the
next ``HORIZON`` school days, and the first ``HORIZON`` after it, as the shipped model: ``label(gone=True)``)
and scores every class day of the test seeds, after a drop-out too (a flag after it counts, with a negative
lead, as in the evaluation).

Each test seed is then scored as ``vigie evaluate signals`` scores Vigie (``evaluation.score``: a flag
counts for a leaver from ``WINDOW`` school days before the drop-out; any flag of a pupil who stays is a
false alarm), for every threshold, and the **best precision reachable with recall >= 0.8 and median lead
>= 5**, the threshold being picked on the test seed itself: an optimistic ceiling for any detector that
reads these per-day counts. The same is printed for Vigie's own daily features (``SignalEngine``'s feature
log, the worker's code path) through the same model and scoring.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

from vigie.core.contract.events import AnswerSubmitted, LearningEvent, SessionEnded, SessionStarted
from vigie.core.settings import load_settings
from vigie.producers.simulator import Simulation, SimulationConfig
from vigie.stream.signals.evaluation import Scores, score
from vigie.stream.signals.risk_training import HORIZON, feature_log, label

RAPID_MS = 4000
WINDOWS = (2, 4, 8, 16)  # class days
WINDOW = 10  # school days: as `vigie evaluate signals --window`
ONE_DAY = timedelta(days=1)


@dataclass(slots=True)
class _Session:
    day: date
    homework: bool
    answers: int = 0
    rapid: int = 0
    correct: int = 0
    outcome: str | None = None  # None: never closed


def _config(seed: int) -> SimulationConfig:
    return SimulationConfig(
        academies=("lyon", "creteil"), students_per_class=20, start=date(2025, 9, 1), days=150, seed=seed
    )


Rows = list[tuple[str, date, list[float]]]


def evidence_rows(events: Iterable[LearningEvent]) -> Rows:
    """Per pupil and class day (after a drop-out too: the silence is evidence), the counts the events show."""
    sessions: dict[str, tuple[str, _Session]] = {}
    class_days: dict[str, set[date]] = defaultdict(set)
    class_of: dict[str, str] = {}
    for event in events:
        if isinstance(event, SessionStarted):
            day = event.occurred_at.date()
            sessions[event.session_id] = (event.student_id, _Session(day, event.teacher_id is None))
            class_of[event.student_id] = event.class_id
            if event.teacher_id is not None:
                class_days[event.class_id].add(day)
        elif isinstance(event, AnswerSubmitted) and event.session_id in sessions:
            s = sessions[event.session_id][1]
            s.answers += 1
            s.rapid += (event.response_time_ms or RAPID_MS) < RAPID_MS
            s.correct += event.correct
        elif isinstance(event, SessionEnded) and event.session_id in sessions:
            sessions[event.session_id][1].outcome = event.outcome
    by_day: dict[tuple[str, date], list[_Session]] = defaultdict(list)
    for pupil, s in sessions.values():
        by_day[(pupil, s.day)].append(s)
    rows: Rows = []
    for pupil, school_class in class_of.items():
        history: list[tuple[float, ...]] = []
        for day in sorted(class_days[school_class]):
            day_sessions = by_day.get((pupil, day), [])
            history.append(
                (
                    float(any(not s.homework for s in day_sessions)),
                    float(sum(s.outcome in (None, "abandoned") for s in day_sessions)),
                    float(sum(bool(s.answers) and s.rapid * 2 >= s.answers for s in day_sessions)),
                    float(sum(s.answers for s in day_sessions)),
                    float(sum(s.correct for s in day_sessions)),
                    float(sum(s.homework for s in day_sessions)),
                )
            )
            rows.append((pupil, day, _features(np.asarray(history))))
    return rows


def _features(history: np.ndarray) -> list[float]:
    out: list[float] = []
    for part in [history[-w:] for w in WINDOWS] + [history]:
        answers = part[:, 3].sum()
        out += [
            part[:, 0].mean(),
            part[:, 1].sum(),
            part[:, 2].sum(),
            part[:, 4].sum() / answers if answers else -1.0,
            part[:, 5].sum(),
        ]
    absent = 0
    for present in history[::-1, 0]:
        if present:
            break
        absent += 1
    return [*out, float(len(history)), float(absent)]


def _fit(train: list[tuple[Rows, Any]], random_state: int) -> HistGradientBoostingClassifier:
    xs, ys = [], []
    for rows, truth in train:
        for pupil, day, features in rows:
            y = label(truth.get(pupil), day, HORIZON, gone=True)  # as the shipped model is fitted
            if y is not None:
                xs.append(features)
                ys.append(y)
    # Early stopping draws its validation split at random: a fixed seed makes the figures repeatable.
    model = HistGradientBoostingClassifier(
        max_iter=300, learning_rate=0.05, max_leaf_nodes=15, min_samples_leaf=50, random_state=random_state
    )
    return model.fit(np.asarray(xs), np.asarray(ys))


def ceiling(rows: Rows, truth: Any, model: HistGradientBoostingClassifier) -> dict[str, Any]:
    """The best pupil-level scores over every threshold (picked on these rows: optimistic)."""
    # every day is a chance to flag: after a drop-out too (a late flag counts, its lead < 0)
    risk = model.predict_proba(np.asarray([f for _, _, f in rows]))[:, 1]
    best: Scores | None = None
    best_precision_any: Scores | None = None
    for cut in np.unique(np.quantile(risk, np.linspace(0.80, 0.9995, 240))):
        flags: dict[str, list[date]] = defaultdict(list)
        for (pupil, day, _), r in zip(rows, risk, strict=True):
            if r >= cut:
                flags[pupil].append(day + ONE_DAY)  # known at the end of the day, as the worker emits
        s = score(flags, truth, WINDOW)
        if s.recall >= 0.8 and (best_precision_any is None or s.precision > best_precision_any.precision):
            best_precision_any = s
        lead_ok = s.lead_days_median is not None and s.lead_days_median >= 5
        if s.recall >= 0.8 and lead_ok and (best is None or s.precision > best.precision):
            best = s
    return {
        "precision_at_recall_0_8_lead_5": None if best is None else best.as_json(),
        "precision_at_recall_0_8_any_lead": None if best_precision_any is None else best_precision_any.as_json(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-seeds", default="101,102,104")
    parser.add_argument("--seeds", default="7,11")
    parser.add_argument("--random-state", type=int, default=0, help="of the model's early-stopping split")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    privacy = load_settings().privacy
    train_seeds = [int(s) for s in args.train_seeds.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    histories: dict[int, tuple[Rows, Rows, Any]] = {}
    for seed in train_seeds + seeds:
        simulation = Simulation(_config(seed), privacy)
        events = list(simulation.events())  # simulated once, read by both (the truth is complete after it)
        evidence = evidence_rows(events)
        vigie = [(p, d, list(f)) for p, d, f in feature_log(events)]
        histories[seed] = (evidence, vigie, simulation.truth.pupils)
        if not args.json:
            print(f"seed {seed}: {len(evidence)} pupil class days, {len(vigie)} pupil school days", flush=True)
    out: dict[str, Any] = {}
    for name, index in (("events_per_class_day", 0), ("vigie_daily_features", 1)):
        model = _fit([(histories[s][index], histories[s][2]) for s in train_seeds], args.random_state)
        out[name] = {str(s): ceiling(histories[s][index], histories[s][2], model) for s in seeds}
    if args.json:
        print(json.dumps(out, indent=2))
        return
    for name, by_seed in out.items():
        for seed, found in by_seed.items():
            for key, s in found.items():
                shown = (
                    "none"
                    if s is None
                    else (
                        f"precision {s['precision']:.3f}, recall {s['recall']:.3f}, flagged {s['flagged']}, "
                        f"median lead {s['lead_days_median']}"
                    )
                )
                print(f"{name:22s} seed {seed:>3}  {key:32s} {shown}")


if __name__ == "__main__":
    main()
