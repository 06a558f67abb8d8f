#!/usr/bin/env bash
# Train a baseline classifier like the original scripts/base-train.sh.
#   bash scripts/base-train.sh DATASET MODEL EPOCHS LR BATCH SEED
# DATASET: cifar10, cifar100, digits, ... (see exps/basic-main.py --help)
# MODEL:   a config name in configs/archs without the CIFAR-/ImageNet- prefix (ResNet20, ResNet110, WRN28-10, ...)
# EPOCHS:  E300 (or 300); LR: L1 = 0.1, L4 = 0.4 (or a number); BATCH: e.g. 256; SEED: -1 for a new random
# seed, which names the run directory seed-<seed> (rerun with it to resume).
# The recipe is configs/opts/CIFAR-<EPOCHS>-W5-<LR>-COS.json when it exists, else the E300-L1 cosine
# recipe (the digits recipe for digits*) with the epochs and LR overridden.
# Data root: $TORCH_HOME/cifar.python (digits needs none). Output: $OUTPUT_DIR (default ./output). WORKERS: data
# loading processes (default 2, at most one per CPU core).
set -euo pipefail
if [ "$#" -ne 6 ]; then
  echo "usage: bash $0 DATASET MODEL EPOCHS LR BATCH SEED   (got $# arguments)" >&2
  exit 2
fi
dataset=$1 model=$2 epochs=$3 lr=$4 batch=$5
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/scripts-search/launcher-common.sh"
seed=$(launch_seed "$6")

case "$dataset" in
  imagenet*) prefix=ImageNet ;;
  *) prefix=CIFAR ;;
esac
model_config="$here/configs/archs/${prefix}-${model}.json"
[ -f "$model_config" ] || model_config="$here/configs/archs/${model}.json"
if [ ! -f "$model_config" ]; then
  echo "error: no model config for '$model' (looked for configs/archs/${prefix}-${model}.json and configs/archs/${model}.json)" >&2
  exit 2
fi

epoch_count=${epochs#E}
case "$lr" in
  L*)
    if ! [[ "${lr#L}" =~ ^[0-9]+$ ]]; then
      echo "error: LR '$lr' is neither L<tenths> (L1 = 0.1, L4 = 0.4) nor a number; pass e.g. L1 or 0.1" >&2
      exit 2
    fi
    tenths=$((10#${lr#L}))
    lr_value="$((tenths / 10)).$((tenths % 10))" ;;
  *) lr_value=$lr ;;
esac
optim="$here/configs/opts/CIFAR-E${epoch_count}-W5-${lr}-COS.json"
if [ ! -f "$optim" ]; then
  case "$dataset" in
    digits*) optim="$here/configs/opts/digits-E10-W1-COS.json" ;;
    *) optim="$here/configs/opts/CIFAR-E300-W5-L1-COS.json" ;;
  esac
fi

save_dir="${OUTPUT_DIR:-output}/basic/${dataset}/${model}-E${epoch_count}-${lr}-B${batch}/seed-${seed}"

exec python "$here/exps/basic-main.py" --dataset "$dataset" \
  --model "$model_config" --optim "$optim" --epochs "$epoch_count" --lr "$lr_value" \
  --batch-size "$batch" --seed "$seed" --workers "$(default_workers 2)" --save-dir "$save_dir"
