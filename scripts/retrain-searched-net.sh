#!/usr/bin/env bash
# Retrain the architecture of a search run (its artifact JSON) from scratch, like the original
# scripts/retrain-searched-net.sh.
#   bash scripts/retrain-searched-net.sh DATASET NAME ARTIFACT BATCH SEED [extra train-searched.py flags]
# NASNet-space artifacts use the NAS-CIFAR / NAS-IMAGENET recipe; NB201 artifacts the benchmark recipe
# (add --hp 12 for the 12-epoch one). NAME labels the output folder $OUTPUT_DIR/retrain/DATASET-NAME-B<batch>/seed-SEED
# (SEED -1: a new random seed, which names the folder). WORKERS: default 4, at most one per CPU core.
set -euo pipefail
if [ "$#" -lt 5 ]; then
  echo "usage: bash $0 DATASET NAME ARTIFACT BATCH SEED [extra train-searched.py flags]   (got $# arguments)" >&2
  exit 2
fi
dataset=$1 name=$2 artifact=$3 batch=$4 seed=$5
shift 5
if [ ! -f "$artifact" ]; then
  echo "error: artifact $artifact does not exist; pass the JSON a search run wrote" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/scripts-search/launcher-common.sh"
seed=$(launch_seed "$seed")
exec python "$here/exps/train-searched.py" --dataset "$dataset" --arch "$artifact" --batch-size "$batch" \
  --seed "$seed" --workers "$(default_workers 4)" \
  --save-dir "${OUTPUT_DIR:-output}/retrain/${dataset}-${name}-B${batch}/seed-${seed}" "$@"
