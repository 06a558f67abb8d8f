#!/usr/bin/env bash
# Search a NAS-Bench-201 cell with DARTS- (first-order DARTS with a decaying auxiliary skip) (docs/search/DARTS-MINUS.md).
#   bash scripts-search/algos/DARTS-MINUS.sh DATASET BN SEED [extra exps/search-cell.py flags]
# DATASET: cifar10, cifar100, ImageNet16-120 (data under $TORCH_HOME/cifar.python) or digits, digits16
# (built in); BN: 1 = the search cells' BatchNorm tracks running statistics, 0 = it does not; SEED: -1 = random.
# Recipe configs/search/nas-bench-201/DARTS-MINUS.json: 50 epochs, batch 64, auxiliary skip 1 -> 0.
# Supernet C16 N5. Output: $OUTPUT_DIR/search-cell-nas-bench-201/DARTS-MINUS-DATASET-BN<BN>/seed-<SEED>
# (default OUTPUT_DIR ./output); re-running the same command resumes. Environment (TORCH_HOME, BENCHMARK,
# WORKERS, DEVICE, DRY_RUN): see scripts-search/search-cell-common.sh. Quick CPU check:
#   bash scripts-search/algos/DARTS-MINUS.sh digits16 0 1 --epochs 1 --channel 4 --num-cells 1
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
source "$here/scripts-search/search-cell-common.sh"
search_nb201 darts-minus DARTS-MINUS "$@"
