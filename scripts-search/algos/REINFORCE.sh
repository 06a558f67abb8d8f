#!/usr/bin/env bash
# REINFORCE on NAS-Bench-201, like the original scripts-search/algos/REINFORCE.sh.
#   bash scripts-search/algos/REINFORCE.sh DATASET LR SEED [extra exps/search-multitrial.py flags]
# DATASET: cifar10, cifar100 or ImageNet16-120; LR: Adam learning rate of the 6x5 policy (the docs use 0.5;
# the original's grid: 0.01 0.02 0.1 0.2 0.5); SEED < 0: 500 runs.  EMA baseline momentum 0.9, budget 12,000 s.
# Environment and output: see scripts-search/algos/multitrial-common.sh.
set -euo pipefail
source "$(cd "$(dirname "$0")" && pwd)/multitrial-common.sh"
require_args 3 "DATASET LR SEED [extra search-multitrial.py flags]" "$@"
dataset=$1 lr=$2 seed=$3
shift 3
search_multitrial reinforce REINFORCE "$dataset" "$seed" --learning-rate "$lr" --ema-momentum 0.9 "$@"
