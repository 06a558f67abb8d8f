#!/usr/bin/env bash
# Merge the result files of one or more builds into a benchmark store (and an official-layout .pth).
#   bash scripts-search/NAS-Bench-201/merge.sh RESULTS OUT
# RESULTS: the OUTPUT_DIR of train-models.sh (every arch-*-seed-*.pth below it is merged);
# OUT: the store folder to write; the official-layout file OUT.pth is written next to it.
set -euo pipefail
if [ "$#" -ne 2 ]; then
  echo "usage: bash $0 RESULTS OUT   (got $# arguments)" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")/../.." && pwd)
python "$here/exps/NAS-Bench-201/build.py" merge --results "$1" --out "$2" --official "${2%/}.pth" --overwrite
