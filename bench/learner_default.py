"""Regenerate Vigie's default learner model (``stream/vigie/stream/mastery/learner_default.json``).

    .venv/bin/python -m bench.learner_default

Fits the learner model on the training pupils of the vendored ASSISTments 2015 sample
(``bench/data/assist2015-sample.csv.gz``, see ``bench/data/README.md``) and keeps only the global
weights and the global prior, as version 0: its skills are ASSISTments', not Vigie's, so a worker
uses it, until a model fitted on Vigie's own answers is published, as "an average skill".
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from vigie.stream.mastery.evaluate import Columns, read_answer_log
from vigie.stream.mastery.learner_fit import describe, fit_learner
from vigie.stream.mastery.learner_params import DEFAULT_FILE, save_model

SAMPLE = Path(__file__).resolve().parent / "data" / "assist2015-sample.csv.gz"
TARGET = Path(__file__).resolve().parents[1] / "stream" / "vigie" / "stream" / "mastery" / DEFAULT_FILE


def main() -> None:
    answers, is_test = read_answer_log(SAMPLE, Columns(split="split"))
    assert is_test is not None
    fitted = fit_learner(answers.subset(~is_test), version=1)
    empty: dict[str, float] = {}
    model = replace(fitted.model, skill_priors=empty, domain_priors=empty, skill_weights={}, domain_weights={},
                    item_offsets=empty, version=0, _cache={})  # fmt: skip
    save_model(model, TARGET)
    print(f"wrote {TARGET} from {fitted.n_answers} answers: {describe(model)}")


if __name__ == "__main__":
    main()
