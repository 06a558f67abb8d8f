#!/usr/bin/env bash
# Build a tiny NAS-Bench-201 end to end on the built-in digits data (no download, a few minutes on a laptop
# CPU), then query it with the API: 6 architectures, C=4, N=1, 16x16 images, the three digits settings,
# 12-epoch recipe shortened to 2 epochs (seeds 111 777) and 200-epoch recipe shortened to 3 epochs (seed 777).
#   bash scripts-search/NAS-Bench-201/digits-demo.sh [OUT]      (default OUT: ./output/NB201-digits-demo)
set -euo pipefail
if [ "$#" -gt 1 ]; then
  echo "usage: bash $0 [OUT]   (got $# arguments)" >&2
  exit 2
fi
out=${1:-./output/NB201-digits-demo}
# One CPU thread unless OMP_NUM_THREADS says otherwise: the networks are tiny (a second thread gained 17% on
# an idle 2-core machine) and with another thread, each op waits for it whenever the other core is busy
# (22x slower then: 292 s instead of 13 s for 3 search epochs; docs/TRAINING.md, "CPU threads").
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
here=$(cd "$(dirname "$0")/../.." && pwd)
build="$here/exps/NAS-Bench-201/build.py"
common=(--save-dir "$out/results" --srange 0 5 --settings digits-valid digits digits-halves
        --channel 4 --num-cells 1 --digits-size 16 --batch-size 64 --workers 0 --quiet)
python "$build" train "${common[@]}" --hp 12 --epochs 2 --seeds 111 777
python "$build" train "${common[@]}" --hp 200 --epochs 3 --seeds 777
python "$build" merge --results "$out/results" --out "$out/store" --official "$out/NB201-digits.pth" --overwrite
python - "$out/store" <<'PY'
import sys
from autodl.benchmarks.nb201 import NASBench201API

api = NASBench201API(sys.argv[1], verbose=False)
print(api)
index, accuracy = api.find_best("digits-valid", "x-valid", hp="12")
print(f"best by x-valid accuracy (12 epochs): index {index} ({accuracy:.2f}%) {api.arch(index)}")
print("get_more_info:", api.get_more_info(index, "digits-valid", hp="12", is_random=False))
print("get_cost_info:", api.get_cost_info(index, "digits-halves", hp="200"))
PY
