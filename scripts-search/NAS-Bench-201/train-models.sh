#!/usr/bin/env bash
# Train NAS-Bench-201 architectures START..END (inclusive) with the benchmark recipes on the four settings.
#   bash scripts-search/NAS-Bench-201/train-models.sh USE_LESS START END [SEEDS...]
# USE_LESS: 1 = the 12-epoch LESS recipe (default seeds 111 777), 0 = the 200-epoch recipes (777 888 999).
# Environment: OUTPUT_DIR (default ./output/NAS-BENCH-201-4), SHARD (i/n, default 0/1: split the range over
# machines), DEVICE (default auto), WORKERS (default 4); data under $TORCH_HOME/cifar.python.
# A killed run restarts with the same command: finished (architecture, seed) files are skipped.
set -euo pipefail
if [ "$#" -lt 3 ]; then
  echo "usage: bash $0 USE_LESS START END [SEEDS...]   (got $# arguments)" >&2
  exit 2
fi
use_less=$1 start=$2 end=$3
shift 3
case "$use_less" in
  1) hp=12 ;;
  0) hp=200 ;;
  *) echo "error: USE_LESS must be 0 or 1, got '$use_less'" >&2; exit 2 ;;
esac
here=$(cd "$(dirname "$0")/../.." && pwd)
source "$here/scripts-search/launcher-common.sh"
seeds=()
if [ "$#" -gt 0 ]; then
  seeds=(--seeds "$@")
fi
python "$here/exps/NAS-Bench-201/build.py" train --save-dir "${OUTPUT_DIR:-./output/NAS-BENCH-201-4}" \
  --hp "$hp" --srange "$start" "$end" --shard "${SHARD:-0/1}" \
  --settings cifar10-valid cifar10 cifar100 ImageNet16-120 \
  --channel 16 --num-cells 5 --device "${DEVICE:-auto}" --workers "$(default_workers 4)" "${seeds[@]}"
