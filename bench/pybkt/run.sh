#!/usr/bin/env bash
# pyBKT next to Vigie on the same answer log and the same train/test split.
#   bench/pybkt/run.sh [ANSWERS.csv]      (default: the simulated export of `python -m bench.mastery`)
# Builds bench/.venv-pybkt once (pyBKT needs numpy < 2; the main .venv has numpy 2).
set -euo pipefail
cd "$(dirname "$0")/../.."
ANSWERS="${1:-bench/data/sim-answers.csv}"
VENV=bench/.venv-pybkt
PYTHON="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ] || [ bench/pybkt/requirements.txt -nt "$VENV/.installed" ]; then
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -r bench/pybkt/requirements.txt
  touch "$VENV/.installed"
fi
if [ ! -f "$ANSWERS" ]; then
  .venv/bin/python -m bench.mastery --csv "$ANSWERS" >/dev/null
fi
echo "vigie:  $(.venv/bin/vigie evaluate mastery --answers "$ANSWERS" --split-column split --format json \
  | .venv/bin/python -c 'import json,sys; d=json.load(sys.stdin); print(json.dumps({k: d[k] for k in ("auc","rmse","log_loss","n_train","n_test")}))')"
echo "pyBKT:  $("$VENV/bin/python" bench/pybkt/compare.py --answers "$ANSWERS" --split-column split)"
