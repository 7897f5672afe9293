"""Mastery figures, both models (learner, BKT): cost per answer, processor throughput, accuracy.

    .venv/bin/python -m bench.mastery [--days 60] [--students 24] [--csv bench/data/sim-answers.csv] [--no-real] [--e2e]

- BKT ``model.step`` / ``PupilMastery.advance`` and learner ``learner.step`` / ``PupilMastery.advance_learner``:
  ns per answer (pure Python, no I/O), and the size of a learner state of 20 skills;
- ``MasteryProcessor.process``: answers per second through the stream's processor, per model (in-memory
  table, batches of 1000: decode + update + encode once per pupil per batch + building ``MasteryUpdated``);
- simulated cohort (``vigie.producers.simulator``): next-answer AUC/RMSE/log-loss/ECE (``vigie evaluate
  mastery``'s code on the exported CSV, split by pupil) and the AUC of the final estimate against the
  simulator's true final state (mastered or not), with default and with calibrated BKT parameters;
- the vendored ASSISTments 2015 sample (``bench/data/``, DKVMN split): next-answer scores of both models;
- ``--e2e``: answers per second through a real broker and one worker process (starts a broker).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from datetime import date
from pathlib import Path

import numpy as np

from vigie.core.settings import PrivacySettings
from vigie.stream.mastery.calibrate import AnswerLog, calibrate
from vigie.stream.mastery.evaluate import Columns, auc, evaluate, read_answer_log, split_by_pupil, write_answer_log
from vigie.stream.mastery.learner import LearnerState
from vigie.stream.mastery.learner import step as learner_step
from vigie.stream.mastery.learner_params import default_learner_model
from vigie.stream.mastery.model import DEFAULT_PARAMS, step
from vigie.stream.mastery.params import ParameterBook
from vigie.stream.mastery.processor import MasteryProcessor, decoded_updates
from vigie.stream.mastery.state import PupilMastery

MODELS = ("learner", "bkt")
#: Vendored real sample (bench/data/README.md): 3,000 ASSISTments 2015 pupils, DKVMN split.
ASSIST_SAMPLE = Path(__file__).resolve().parent / "data" / "assist2015-sample.csv.gz"


def bench_model(n: int = 300_000) -> dict[str, float]:
    rng = random.Random(1)
    answers = [rng.random() < 0.7 for _ in range(n)]
    estimate = None
    started = time.perf_counter_ns()
    for i, correct in enumerate(answers):
        estimate = step(estimate, correct, float(i), DEFAULT_PARAMS).estimate
    step_ns = (time.perf_counter_ns() - started) / n
    state = PupilMastery()
    skills = [f"s{i}" for i in range(20)]
    ids = [str(i) for i in range(n)]
    started = time.perf_counter_ns()
    for i, correct in enumerate(answers):
        state.advance(ids[i], skills[i % 20], correct, float(i), DEFAULT_PARAMS)
    advance_ns = (time.perf_counter_ns() - started) / n
    figures = {"bkt_step_ns_per_answer": round(step_ns), "bkt_state_advance_ns_per_answer": round(advance_ns)}
    model = default_learner_model()
    codes = [f"C3-MA-NOM-{i:02d}" for i in range(1, 21)]
    learner_state = LearnerState()
    started = time.perf_counter_ns()
    for i, correct in enumerate(answers):
        learner_step(learner_state, codes[i % 20], correct, float(i), model)
    figures["learner_step_ns_per_answer"] = round((time.perf_counter_ns() - started) / n)
    state = PupilMastery()
    started = time.perf_counter_ns()
    for i, correct in enumerate(answers):
        state.advance_learner(ids[i], codes[i % 20], correct, float(i), model)
    figures["learner_state_advance_ns_per_answer"] = round((time.perf_counter_ns() - started) / n)
    figures["learner_state_bytes_20_skills"] = len(state.encode())
    return figures


def simulate(days: int, students: int, seed: int = 42):
    from vigie.producers.simulator import Simulation, SimulationConfig

    config = SimulationConfig(
        academies=("lyon", "creteil"),
        schools_per_academy=2,
        classes_per_school=3,
        students_per_class=students,
        days=days,
        seed=seed,
        end=date(2026, 6, 30),
    )
    sim = Simulation(config, PrivacySettings())
    events = list(sim.events())
    return sim, events


def bench_processor(events, batch: int = 1000, model: str = "learner") -> dict[str, float]:
    answers = [e for e in events if e.kind == "answer"]
    processor = MasteryProcessor({}, ParameterBook(), threshold=0.95, model=model)
    started = time.perf_counter()
    emitted = 0
    for i in range(0, len(events), batch):
        emitted += len(processor.process(events[i : i + batch]))
    elapsed = time.perf_counter() - started
    return {
        "model": model,
        "processor_answers_per_s": round(len(answers) / elapsed),
        "processor_answers": len(answers),
        "processor_emitted": emitted,
    }


def export_csv(events, path: Path, seed: int = 42) -> int:
    """student, skill, correct, order (ISO time), split (20% of pupils in test, seeded)."""
    answers = [e for e in events if e.kind == "answer"]
    pupils = sorted({a.student_id for a in answers})
    test = set(np.random.default_rng(seed).choice(pupils, size=max(1, len(pupils) // 5), replace=False).tolist())
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = (
        (
            a.student_id,
            a.skill_code,
            int(a.correct),
            a.occurred_at.isoformat(),
            "test" if a.student_id in test else "train",
        )
        for a in answers
    )
    return write_answer_log(path, rows)


def final_mastery_auc(events, truth, book: ParameterBook, model: str = "bkt") -> dict[str, float]:
    """AUC of the final estimate (last MasteryUpdated per pupil and skill) against the true final state."""
    processor = MasteryProcessor({}, book, threshold=0.95, model=model)
    last: dict[tuple[str, str], float] = {}
    flag: dict[tuple[str, str], bool] = {}
    for i in range(0, len(events), 1000):
        for update in decoded_updates(processor.process(events[i : i + 1000])):
            last[(update.student_id, update.skill_code)] = update.p_after
            flag[(update.student_id, update.skill_code)] = update.mastered
    keys = [k for k in last if k in truth.final_knows]
    labels = np.array([truth.final_knows[k] for k in keys])
    scores = np.array([last[k] for k in keys])
    mastered = np.array([flag[k] for k in keys], dtype=bool)
    return {
        "final_auc": auc(labels, scores),
        "pairs": len(keys),
        "share_truly_known": float(labels.mean()),
        "mastered_flag_precision": float(labels[mastered].mean()) if mastered.any() else float("nan"),
        "mastered_flag_recall": float(mastered[labels].mean()) if labels.any() else float("nan"),
    }


def knows_after_auc(events, truth, book: ParameterBook, model: str = "bkt") -> float:
    """AUC of p_after of every answer against the latent state right after it."""
    processor = MasteryProcessor({}, book, threshold=0.95, model=model)
    labels, scores = [], []
    for i in range(0, len(events), 1000):
        for update in decoded_updates(processor.process(events[i : i + 1000])):
            labels.append(truth.knows_after[update.answer_event_id])
            scores.append(update.p_after)
    return auc(np.array(labels), np.array(scores))


def calibrated_book(events) -> ParameterBook:
    answers = [e for e in events if e.kind == "answer"]
    log_ = AnswerLog(
        np.array([a.student_id for a in answers], dtype=object),
        np.array([a.skill_code for a in answers], dtype=object),
        np.array([int(a.correct) for a in answers], dtype=np.int8),
        np.array([a.occurred_at.timestamp() for a in answers]),
    )
    fits = calibrate(log_, version=1)
    return ParameterBook(by_skill={k: f.params for k, f in fits.items() if f.calibrated})


def bench_e2e(events) -> dict[str, float]:
    """Answers per second through a real broker and one worker process (all answers, then wait)."""
    import tempfile
    import uuid

    from kafka import KafkaConsumer

    from tests.conftest import REPO, free_port
    from vigie.core.settings import VigieSettings
    from vigie.core.topics import MASTERY_UPDATES, ensure_topics
    from vigie.infra.broker import KafkaBroker
    from vigie.infra.processes import start_worker, stop_process
    from vigie.producers.sdk import EventPublisher

    answers = [e for e in events if e.kind == "answer"]
    tmp = Path(tempfile.mkdtemp(prefix="vigie-bench-"))
    libs = Path(__import__("os").environ.get("VIGIE_TEST_KAFKA_LIBS", REPO / "var" / "kafka" / "libs"))
    broker = KafkaBroker(tmp / "kafka", libs, free_port(), free_port(), heap="768m")
    broker.start(timeout_s=120)
    worker = None
    try:
        settings = VigieSettings(
            state_dir=tmp,
            kafka={"bootstrap_servers": broker.bootstrap, "topic_prefix": f"b{uuid.uuid4().hex[:8]}", "partitions": 4},
        )
        ensure_topics(settings.kafka)
        with EventPublisher(settings.kafka) as publisher:
            for event in events:
                publisher.publish(event)
        consumer = KafkaConsumer(
            MASTERY_UPDATES.name(settings.kafka.topic_prefix),
            group_id=None,
            bootstrap_servers=broker.bootstrap,
            auto_offset_reset="earliest",
            consumer_timeout_ms=500,
        )
        worker = start_worker(settings, tmp / "worker.log")
        seen = 0
        first = None
        deadline = time.monotonic() + 600
        while seen < len(answers) and time.monotonic() < deadline:
            got = sum(1 for _ in consumer)
            if got and first is None:
                first = time.perf_counter() - 0.5
            seen += got
        elapsed = time.perf_counter() - (first or time.perf_counter())
        consumer.close()
        return {"e2e_answers": seen, "e2e_answers_per_s": round(seen / elapsed) if elapsed > 0 else None}
    finally:
        if worker is not None:
            stop_process(worker)
        broker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--students", type=int, default=24, help="pupils per class (12 classes)")
    parser.add_argument("--csv", type=Path, default=Path("bench/data/sim-answers.csv"))
    parser.add_argument("--e2e", action="store_true", help="also measure a worker through a real broker")
    parser.add_argument("--no-real", action="store_true", help="skip the vendored ASSISTments 2015 sample")
    args = parser.parse_args()

    figures: dict[str, object] = bench_model()
    print(json.dumps(figures))
    started = time.perf_counter()
    sim, events = simulate(args.days, args.students)
    truth = sim.truth
    print(
        json.dumps(
            {
                "simulated_events": len(events),
                "simulated_pupils": len(truth.pupils),
                "simulation_s": round(time.perf_counter() - started, 1),
            }
        )
    )
    for model in MODELS:
        print(json.dumps(bench_processor(events, model=model)))
    n = export_csv(events, args.csv)
    answers, is_test = read_answer_log(args.csv, Columns(split="split"))
    keys = ("auc", "rmse", "log_loss", "ece", "n")
    for model in MODELS:
        result = evaluate(answers, is_test, model=model).as_json()
        print(json.dumps({"csv": str(args.csv), "answers": n, "model": model,
                          "next_answer_simulator": {k: result[k] for k in keys}}))  # fmt: skip
        drawn = evaluate(answers, split_by_pupil(answers, 0.2, 7), model=model).as_json()
        print(json.dumps({"model": model, "next_answer_simulator_drawn_split_seed7": {k: drawn[k] for k in keys}}))
    for name, book in (("defaults", ParameterBook()), ("calibrated_on_all", calibrated_book(events))):
        for model in MODELS:
            final = final_mastery_auc(events, truth, book, model)
            final["knows_after_auc"] = knows_after_auc(events, truth, book, model)
            print(json.dumps({f"final_mastery_{name}": final, "model": model}))
    if not args.no_real:
        real, real_test = read_answer_log(ASSIST_SAMPLE, Columns(split="split"))
        assert real_test is not None
        for model in MODELS:
            result = evaluate(real, real_test, model=model).as_json()
            print(json.dumps({"model": model, "next_answer_assist2015_sample": {k: result[k] for k in keys}}))
    if args.e2e:
        print(json.dumps(bench_e2e(events)))


if __name__ == "__main__":
    main()
