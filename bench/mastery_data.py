"""A synthetic BKT answer log with known parameters (until the cohort simulator exports one).

``python -m bench.mastery_data OUT.csv`` writes student, skill, correct, order, split columns, with
true per-skill parameters drawn at random; ``split`` puts 20% of the pupils in test (seeded).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from vigie.stream.mastery.evaluate import write_answer_log


def bkt_rows(n_students: int = 400, n_skills: int = 8, answers_per_skill: int = 12, seed: int = 7):
    """Rows (student, skill, correct, order, split) and the true parameters per skill."""
    rng = np.random.default_rng(seed)
    truth = {
        f"skill-{k}": (rng.uniform(0.1, 0.5), rng.uniform(0.05, 0.3), rng.uniform(0.1, 0.3), rng.uniform(0.05, 0.2))
        for k in range(n_skills)
    }
    test_students = set(rng.choice(n_students, size=n_students // 5, replace=False).tolist())
    rows = []
    for s in range(n_students):
        order = 0
        split = "test" if s in test_students else "train"
        for skill, (p_init, learn, guess, slip) in truth.items():
            known = rng.random() < p_init
            for _ in range(answers_per_skill):
                correct = (rng.random() >= slip) if known else (rng.random() < guess)
                rows.append((f"pupil-{s}", skill, int(correct), order, split))
                order += 1
                known = known or rng.random() < learn
    return rows, truth


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "bench/data/bkt-synthetic.csv")
    out.parent.mkdir(parents=True, exist_ok=True)
    rows, truth = bkt_rows()
    print(f"wrote {write_answer_log(out, rows)} answers to {out}")
    for skill, params in truth.items():
        print(skill, "init={:.3f} learn={:.3f} guess={:.3f} slip={:.3f}".format(*params))
