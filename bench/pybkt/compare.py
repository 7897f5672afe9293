"""pyBKT on an answer log, with the same split as ``vigie evaluate mastery``: prints one JSON line.

Runs in bench/.venv-pybkt (see run.sh): it imports nothing from Vigie. Columns as in Vigie's
evaluation (student, skill, correct, order, and a train/test split column); pyBKT is fitted on the
training pupils, then predicts each test answer from the pupil's earlier answers (``Model.predict``).
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np
import pandas as pd
from pyBKT.models import Model
from sklearn.metrics import log_loss, mean_squared_error, roc_auc_score


def load(path: str, args: argparse.Namespace) -> pd.DataFrame:
    raw = pd.read_csv(path, dtype={args.student_column: str, args.skill_column: str})
    order = pd.to_numeric(raw[args.order_column], errors="coerce")
    if order.isna().any():  # ISO timestamps
        order = pd.to_datetime(raw[args.order_column], utc=True, format="ISO8601").astype("int64")
    frame = pd.DataFrame(
        {
            "user_id": raw[args.student_column],
            "skill_name": raw[args.skill_column],
            "correct": raw[args.correct_column].astype(str).str.lower().isin(["1", "true", "1.0"]).astype(int),
            "order_key": order,
            "split": raw[args.split_column].str.lower(),
        }
    )
    frame = frame.sort_values(["user_id", "order_key"], kind="stable").reset_index(drop=True)
    frame["order_id"] = np.arange(len(frame))
    return frame


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--answers", required=True)
    parser.add_argument("--student-column", default="student")
    parser.add_argument("--skill-column", default="skill")
    parser.add_argument("--correct-column", default="correct")
    parser.add_argument("--order-column", default="order")
    parser.add_argument("--split-column", default="split")
    parser.add_argument("--num-fits", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    # pyBKT divides 0/0 on skills with very few answers (it carries on with NaN-safe fallbacks).
    warnings.filterwarnings("ignore", category=RuntimeWarning, module="pyBKT")
    frame = load(args.answers, args)
    train = frame[frame.split == "train"].drop(columns="split")
    test = frame[frame.split == "test"].drop(columns="split")
    # pyBKT can only predict skills it has fitted.
    test = test[test.skill_name.isin(set(train.skill_name))]
    started = time.perf_counter()
    model = Model(seed=args.seed, num_fits=args.num_fits)
    model.fit(data=train)
    fit_s = time.perf_counter() - started
    predicted = model.predict(data=test)
    y = predicted["correct"].to_numpy()
    p = np.clip(predicted["correct_predictions"].to_numpy(), 1e-15, 1 - 1e-15)
    print(
        json.dumps(
            {
                "auc": float(roc_auc_score(y, p)),
                "rmse": float(np.sqrt(mean_squared_error(y, p))),
                "log_loss": float(log_loss(y, p, labels=[0, 1])),
                "n_train": len(train),
                "n_test": len(test),
                "fit_s": round(fit_s, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
