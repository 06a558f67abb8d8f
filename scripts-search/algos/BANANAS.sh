#!/usr/bin/env bash
# BANANAS on NAS-Bench-201 (White, Neiswanger and Savani, AAAI 2021): an ensemble of 5 neural predictors on the path
# encoding, candidates mutated from the best cells, independent Thompson sampling.
#   bash scripts-search/algos/BANANAS.sh DATASET SEED [extra exps/search-multitrial.py flags]
# DATASET: cifar10, cifar100 or ImageNet16-120; SEED < 0: 500 runs.  The paper's settings: 10 random cells first,
# 10 cells a round out of 100 candidates; simulated budget 12,000 s.
# Environment and output: see scripts-search/algos/multitrial-common.sh.
set -euo pipefail
source "$(cd "$(dirname "$0")" && pwd)/multitrial-common.sh"
require_args 2 "DATASET SEED [extra search-multitrial.py flags]" "$@"
dataset=$1 seed=$2
shift 2
search_multitrial bananas BANANAS "$dataset" "$seed" --num-init 10 --per-round 10 --num-candidates 100 --ensemble 5 "$@"
