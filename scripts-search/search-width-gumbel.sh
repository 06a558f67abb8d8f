#!/usr/bin/env bash
# TAS: search the widths only of a CIFAR ResNet under a FLOP target, then train the found shape
# normally and by KD, like the original scripts-search/search-width-gumbel.sh.
#   bash scripts-search/search-width-gumbel.sh DATASET MODEL OPTIM RATIO SEED [extra exps/search-shape.py flags]
# e.g. bash scripts-search/search-width-gumbel.sh cifar10 ResNet56 CIFARX 0.47 1
# Arguments, outputs and environment: see scripts-search/search-shape-common.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/scripts-search/search-shape-common.sh"
search_shape width "$@"
