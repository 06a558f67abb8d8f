#!/usr/bin/env bash
# The quick start: search a NAS-Bench-201 cell with first-order DARTS on the built-in digits data (16x16),
# retrain the found cell from scratch, draw it and print a summary; about 2 minutes on one CPU core, no
# download. The architecture learning rate is 10x the recipe's (3e-4) so that 30 short epochs move it.
#   bash scripts/quickstart.sh [OUTPUT_DIR]        (default: output/quickstart; re-running resumes)
set -euo pipefail
if [ "$#" -gt 1 ]; then
  echo "usage: bash $0 [OUTPUT_DIR]   (got $# arguments)" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")/.." && pwd)
# One CPU thread unless OMP_NUM_THREADS says otherwise: the networks are tiny (a second thread gained 17% on
# an idle 2-core machine) and with another thread, each op waits for it whenever the other core is busy
# (22x slower then: 292 s instead of 13 s for 3 search epochs; docs/TRAINING.md, "CPU threads").
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
out=${1:-output/quickstart}

python "$here/exps/search-cell.py" --algo darts-v1 --space nas-bench-201 --dataset digits16 \
  --epochs "${SEARCH_EPOCHS:-30}" --channel 8 --num-cells 2 --batch-size 64 --arch-lr 3e-3 --seed 1 --quiet \
  --save-dir "$out/search"
python "$here/exps/train-searched.py" --arch "$out/search/result.json" --dataset digits16 --C 8 --N 2 \
  --optim "$here/configs/opts/digits-E10-W1-COS.json" --epochs "${RETRAIN_EPOCHS:-10}" --seed 1 --quiet \
  --save-dir "$out/retrain"
python "$here/exps/search-summary.py" "$out/search" --retrain "$out/retrain"
