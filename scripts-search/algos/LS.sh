#!/usr/bin/env bash
# Local search on NAS-Bench-201 (White, Nolen and Savani 2020): best-improvement hill climbing over the one-edge
# neighbourhoods, restarting from a random cell at each local optimum.
#   bash scripts-search/algos/LS.sh DATASET SEED [extra exps/search-multitrial.py flags]
# DATASET: cifar10, cifar100 or ImageNet16-120; SEED < 0: 500 runs.  One random start cell (the paper's Algorithm 1);
# simulated budget 12,000 s.  A zero-cost warm start: add --warm-start N --proxy NAME.
# Environment and output: see scripts-search/algos/multitrial-common.sh.
set -euo pipefail
source "$(cd "$(dirname "$0")" && pwd)/multitrial-common.sh"
require_args 2 "DATASET SEED [extra search-multitrial.py flags]" "$@"
dataset=$1 seed=$2
shift 2
search_multitrial local_search LS "$dataset" "$seed" --start-cells 1 "$@"
