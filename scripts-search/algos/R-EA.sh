#!/usr/bin/env bash
# Regularized evolution on NAS-Bench-201, like the original scripts-search/algos/R-EA.sh.
#   bash scripts-search/algos/R-EA.sh DATASET SAMPLE_SIZE SEED [extra exps/search-multitrial.py flags]
# DATASET: cifar10, cifar100 or ImageNet16-120; SAMPLE_SIZE: tournament size (the docs use 3); SEED < 0: 500 runs.
# Population 10, simulated budget 12,000 s (the original's ea_cycles 200 is ignored by it too).
# Environment and output: see scripts-search/algos/multitrial-common.sh.
set -euo pipefail
source "$(cd "$(dirname "$0")" && pwd)/multitrial-common.sh"
require_args 3 "DATASET SAMPLE_SIZE SEED [extra search-multitrial.py flags]" "$@"
dataset=$1 sample_size=$2 seed=$3
shift 3
search_multitrial rea R-EA "$dataset" "$seed" --population 10 --sample-size "$sample_size" "$@"
