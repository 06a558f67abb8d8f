#!/usr/bin/env bash
# Train one architecture (an index 0..15624 or an architecture string) with the 200-epoch recipes on the
# four settings, seeds 777 888 999, with C channels and N cells per stage.
#   bash scripts-search/NAS-Bench-201/train-a-net.sh ARCH C N
#   bash scripts-search/NAS-Bench-201/train-a-net.sh '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|' 16 5
# Environment: OUTPUT_DIR (default ./output/NAS-BENCH-201-4/specifics/C<C>-N<N>), DEVICE, WORKERS.
set -euo pipefail
if [ "$#" -ne 3 ]; then
  echo "usage: bash $0 ARCH C N   (got $# arguments)" >&2
  exit 2
fi
arch=$1 channel=$2 cells=$3
here=$(cd "$(dirname "$0")/../.." && pwd)
source "$here/scripts-search/launcher-common.sh"
if [[ "$arch" =~ ^[0-9]+$ ]]; then
  which=(--arch-index "$arch")
else
  which=(--arch "$arch")
fi
python "$here/exps/NAS-Bench-201/build.py" train \
  --save-dir "${OUTPUT_DIR:-./output/NAS-BENCH-201-4/specifics/C${channel}-N${cells}}" \
  --hp 200 --seeds 777 888 999 --settings cifar10-valid cifar10 cifar100 ImageNet16-120 \
  --channel "$channel" --num-cells "$cells" --device "${DEVICE:-auto}" --workers "$(default_workers 4)" "${which[@]}"
