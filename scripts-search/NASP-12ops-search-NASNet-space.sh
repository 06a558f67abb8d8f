#!/usr/bin/env bash
# Search a DARTS/NASNet-space cell pair (normal + reduction) with NASP on its 12-op space (as in the authors' code: skip and 7 convolutions in normal cells, skip and 4 pools in reduction cells).
#   bash scripts-search/NASP-12ops-search-NASNet-space.sh DATASET SEED [extra exps/search-cell.py flags]
# DATASET: cifar10, cifar100, ImageNet16-120 (data under $TORCH_HOME/cifar.python) or digits, digits16
# (built in); SEED: -1 = random.
# Recipe configs/search/darts/NASP-12ops-NASNet-CIFAR.json. See docs/NASP.md.
# Output: $OUTPUT_DIR/search-cell-darts/NASP-12ops-DATASET/seed-<SEED> (default OUTPUT_DIR ./output); re-running the
# same command resumes. Retrain the result with scripts/retrain-searched-net.sh DATASET NAME <run>/result.json 96 SEED.
# Environment (TORCH_HOME, WORKERS, DEVICE, DRY_RUN): see scripts-search/search-cell-common.sh. Quick CPU check:
#   bash scripts-search/NASP-12ops-search-NASNet-space.sh digits16 1 --epochs 1 --channel 4 --num-cells 1
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/scripts-search/search-cell-common.sh"
search_darts nasp-12ops NASP-12ops "$@"
