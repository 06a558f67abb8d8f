#!/usr/bin/env bash
# Random search on NAS-Bench-201, like the original scripts-search/algos/Random.sh.
#   bash scripts-search/algos/Random.sh DATASET SEED [extra exps/search-multitrial.py flags]
# DATASET: cifar10, cifar100 or ImageNet16-120; SEED < 0: 500 runs.  Simulated budget 12,000 s.
# Environment and output: see scripts-search/algos/multitrial-common.sh.
set -euo pipefail
source "$(cd "$(dirname "$0")" && pwd)/multitrial-common.sh"
require_args 2 "DATASET SEED [extra search-multitrial.py flags]" "$@"
dataset=$1 seed=$2
shift 2
search_multitrial random Random "$dataset" "$seed" "$@"
