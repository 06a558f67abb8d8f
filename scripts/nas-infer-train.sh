#!/usr/bin/env bash
# Retrain a published NASNet-space genotype with the paper recipe, like the original scripts/nas-infer-train.sh.
#   bash scripts/nas-infer-train.sh DATASET GENOTYPE BATCH SEED
# DATASET: cifar10, cifar100, imagenet-1k (or digits for a quick CPU run); GENOTYPE: DARTS_V2, DARTS_V1,
# GDAS_V1, SETN, NASNet, PNASNet. CIFAR: NAS-CIFAR recipe (295+5 epochs), C36 N6, cutout 16, 4 workers;
# ImageNet: NAS-IMAGENET recipe, C48 N4, no cutout, 28 workers, data under $TORCH_HOME/ILSVRC2012. Extra flags (e.g. --epochs 2 --C 8 --N 1)
# are passed on to exps/train-searched.py. Output: $OUTPUT_DIR (default ./output). WORKERS overrides the worker
# count (by default at most one per CPU core); SEED -1 draws a new seed, which names the run directory.
set -euo pipefail
if [ "$#" -lt 4 ]; then
  echo "usage: bash $0 DATASET GENOTYPE BATCH SEED [extra train-searched.py flags]   (got $# arguments)" >&2
  exit 2
fi
dataset=$1 genotype=$2 batch=$3 seed=$4
shift 4
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/scripts-search/launcher-common.sh"
seed=$(launch_seed "$seed")
data=()
case "$dataset" in
  imagenet*) workers=$(default_workers 28); data=(--data-path "${TORCH_HOME:-$HOME/.cache/torch}/ILSVRC2012") ;;
  *) workers=$(default_workers 4) ;;
esac
exec python "$here/exps/train-searched.py" --dataset "$dataset" --arch "$genotype" --batch-size "$batch" \
  --seed "$seed" --workers "$workers" "${data[@]}" \
  --save-dir "${OUTPUT_DIR:-output}/nas-infer/${dataset}-${genotype}-B${batch}/seed-${seed}" "$@"
