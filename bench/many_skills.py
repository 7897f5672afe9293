"""A SYNTHETIC answer log with many fine-grained skills and few pupils (not real data).

    .venv/bin/python -m bench.many_skills [--out bench/data/many-skills.csv] [--no-evaluate]

Shape of the hard case of issue 11: ~1,200 skills in a subject / domain / skill hierarchy (codes like
``C3-MA-D07-12``), a few hundred pupils, each answering a few items on many skills, so most skills
have few answers. The generating model shares strength on purpose, as real pupils do:

- a pupil's ability (normal), plus a per-domain aptitude (normal, smaller);
- a skill's difficulty = its domain's difficulty + its own (both normal);
- P(right) = sigmoid(ability + aptitude[domain] - difficulty + learning * answers on the skill so far);
- timestamps: one session a school day, a few answers per session.

It then prints ``vigie evaluate mastery``'s scores for both models (unless ``--no-evaluate``) and the
"pupil's running success rate" baseline (P(right) = (right + 1) / (answers + 2) of the pupil's earlier
answers, all skills).
"""

from __future__ import annotations

import argparse
import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from vigie.stream.mastery.evaluate import Columns, Scores, evaluate, read_answer_log, write_answer_log

DOMAINS = 60
SKILLS_PER_DOMAIN = 20
PUPILS = 300
SKILLS_PER_PUPIL = 40
ANSWERS_PER_SKILL = (1, 6)


def rows(seed: int = 11, pupils: int = PUPILS):
    """(student, skill, correct, ISO time, split) rows; 20% of pupils in test."""
    rng = np.random.default_rng(seed)
    domain_difficulty = rng.normal(0.0, 0.8, DOMAINS)
    skill_difficulty = domain_difficulty[:, None] + rng.normal(0.0, 0.6, (DOMAINS, SKILLS_PER_DOMAIN))
    codes = [[f"C3-MA-D{d:02d}-{s:02d}" for s in range(SKILLS_PER_DOMAIN)] for d in range(DOMAINS)]
    start = datetime(2025, 9, 1, 9, tzinfo=UTC)
    out = []
    for p in range(pupils):
        split = "test" if rng.random() < 0.2 else "train"
        ability = rng.normal(0.6, 1.0)
        aptitude = rng.normal(0.0, 0.5, DOMAINS)
        learning = abs(rng.normal(0.25, 0.1))
        # A pupil works through a few domains, skill after skill (as a curriculum would).
        chosen = rng.choice(DOMAINS * SKILLS_PER_DOMAIN, size=SKILLS_PER_PUPIL, replace=False)
        chosen.sort()
        moment = start + timedelta(minutes=int(rng.integers(0, 600)))
        for flat in chosen:
            d, s = divmod(int(flat), SKILLS_PER_DOMAIN)
            for k in range(int(rng.integers(*ANSWERS_PER_SKILL, endpoint=True))):
                logit = ability + aptitude[d] - skill_difficulty[d, s] + learning * k
                correct = int(rng.random() < 1.0 / (1.0 + math.exp(-logit)))
                moment += timedelta(seconds=int(rng.integers(20, 120)))
                out.append((f"synthetic-{p}", codes[d][s], correct, moment.isoformat(), split))
            if rng.random() < 0.1:
                moment += timedelta(days=1)
    return out


def running_rate_baseline(answers, is_test) -> Scores:
    """P(right) = (right + 1) / (answers + 2) over the pupil's earlier answers (every skill)."""
    test = answers.subset(is_test).in_order()
    predictions = np.empty(len(test))
    counts: dict[str, list[int]] = {}
    for i, (pupil, y) in enumerate(zip(test.students.tolist(), test.correct.tolist(), strict=True)):
        c = counts.setdefault(pupil, [0, 0])
        predictions[i] = (c[0] + 1) / (c[1] + 2)
        c[0] += y
        c[1] += 1
    return Scores.of(test.correct.astype(bool), predictions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench/data/many-skills.csv"))
    parser.add_argument("--pupils", type=int, default=PUPILS)
    parser.add_argument("--no-evaluate", action="store_true", help="only write the log")
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    n = write_answer_log(args.out, rows(pupils=args.pupils))
    answers, is_test = read_answer_log(args.out, Columns(split="split"))
    assert is_test is not None
    train_skills = answers.skills[~is_test]
    _, per_skill = np.unique(train_skills, return_counts=True)
    print(json.dumps({"synthetic_log": str(args.out), "answers": n, "skills": len(np.unique(answers.skills)),
                      "pupils": len(np.unique(answers.students)),
                      "median_train_answers_per_skill": float(np.median(per_skill))}))  # fmt: skip
    if args.no_evaluate:
        return
    figures = {"running_success_rate": running_rate_baseline(answers, is_test).as_dict()}
    for model in ("learner", "bkt"):
        result = evaluate(answers, is_test, model=model)
        figures[model] = result.overall.as_dict() | {"skills_fitted": result.n_skills_fitted,
                                                     "skills": result.n_skills}  # fmt: skip
    print(json.dumps({"many_skills_next_answer": figures}))


if __name__ == "__main__":
    main()
