#!/usr/bin/env bash
# BOHB on NAS-Bench-201, like the original scripts-search/algos/BOHB.sh.
#   bash scripts-search/algos/BOHB.sh DATASET SEED [extra exps/search-multitrial.py flags]
# DATASET: cifar10, cifar100 or ImageNet16-120; SEED < 0: 500 runs.  The script's settings: budgets 12..200
# epochs with eta 3, 50 Hyperband iterations, 4 samples per candidate, no random fraction, bandwidth factor 3,
# minimum bandwidth 0.3, simulated budget 12,000 s; like the original, every budget is answered with the
# 12-epoch record (add --multi-fidelity to answer it from the 200-epoch curves).
# Environment and output: see scripts-search/algos/multitrial-common.sh.
set -euo pipefail
source "$(cd "$(dirname "$0")" && pwd)/multitrial-common.sh"
require_args 2 "DATASET SEED [extra search-multitrial.py flags]" "$@"
dataset=$1 seed=$2
shift 2
search_multitrial bohb BOHB "$dataset" "$seed" --min-budget 12 --max-budget 200 --eta 3 --n-iters 50 \
  --num-samples 4 --random-fraction 0 --bandwidth-factor 3 --min-bandwidth 0.3 "$@"
