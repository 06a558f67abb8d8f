# Shared by the weight-sharing search launchers (scripts-search/algos/*.sh and
# scripts-search/*-search-NASNet-space.sh); they source this file, it is not run on its own.
#
#   search_nb201 ALGO NAME DATASET BN SEED [extra exps/search-cell.py flags]
#       NAS-Bench-201 space, C16 N5, --track-running-stats BN;
#       run directory $OUTPUT_DIR/search-cell-nas-bench-201/NAME-DATASET-BN<BN>/seed-<SEED>
#   search_darts ALGO NAME DATASET SEED [extra exps/search-cell.py flags]
#       DARTS/NASNet space with the recipe's supernet (C16 N2);
#       run directory $OUTPUT_DIR/search-cell-darts/NAME-DATASET/seed-<SEED>
#
# Environment:
#   OUTPUT_DIR  output root (default ./output)
#   TORCH_HOME  data root: --data-path $TORCH_HOME/cifar.python ($TORCH_HOME/cifar.python/ImageNet16 for
#               ImageNet16-120); default ~/.cache/torch. digits and digits16 are built in and need no data.
#   BENCHMARK   NAS-Bench-201 store or .pth whose numbers are logged every epoch (NB201 space only);
#               default: $TORCH_HOME/NAS-Bench-201-v1_1-096897.store, else the .pth next to it, if one
#               exists; BENCHMARK=none turns it off
#   WORKERS     data-loading processes (default 4, at most one per CPU core; 0 for digits and digits16,
#               which live in memory)
#   DEVICE      auto (default), cpu, cuda or cuda:K
#   DRY_RUN=1   print the command instead of running it
# Flags after the required arguments go to exps/search-cell.py last, so they override the ones set here
# (e.g. --epochs 1 --channel 4 --data-path DIR).

search_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$search_root/scripts-search/launcher-common.sh"

# default_benchmark: $BENCHMARK, else our store or the official .pth of NAS-Bench-201-v1_1 under $TORCH_HOME
# when one exists, else nothing (also used by scripts-search/algos/multitrial-common.sh)
default_benchmark() {
  local path=${BENCHMARK:-}
  if [ -z "$path" ]; then
    local official="${TORCH_HOME:-$HOME/.cache/torch}/NAS-Bench-201-v1_1-096897.pth"
    if [ -d "${official%.pth}.store" ]; then
      path="${official%.pth}.store"
    elif [ -f "$official" ]; then
      path=$official
    fi
  fi
  printf '%s' "$path"
}

# search_cell ALGO SPACE SAVE_DIR DATASET SEED [flags...]: run exps/search-cell.py (replaces the shell)
search_cell() {
  local algo=$1 space=$2 save_dir=$3 dataset=$4 seed=$5
  shift 5
  local torch_home=${TORCH_HOME:-$HOME/.cache/torch}
  local workers
  workers=$(default_workers 4)
  local data=()
  case "$dataset" in
    digits|digits16) workers=${WORKERS:-0} ;;
    ImageNet16*) data=(--data-path "$torch_home/cifar.python/ImageNet16") ;;
    *) data=(--data-path "$torch_home/cifar.python") ;;
  esac
  local bench=() path
  path=$(default_benchmark)
  if [ "$space" = nas-bench-201 ] && [ "$path" != none ] && [ -n "$path" ]; then
    bench=(--benchmark "$path")
  fi
  local command=(python "$search_root/exps/search-cell.py" --algo "$algo" --space "$space" --dataset "$dataset"
                 --seed "$seed" --save-dir "$save_dir" --workers "$workers" --device "${DEVICE:-auto}"
                 "${data[@]}" "${bench[@]}" "$@")
  print_or_exec "${command[@]}"
}

search_nb201() {
  require_args 3 "DATASET BN SEED [extra search-cell.py flags]" "${@:3}"
  local algo=$1 name=$2 dataset=$3 bn=$4 seed
  seed=$(launch_seed "$5")
  shift 5
  search_cell "$algo" nas-bench-201 \
    "${OUTPUT_DIR:-output}/search-cell-nas-bench-201/${name}-${dataset}-BN${bn}/seed-${seed}" "$dataset" "$seed" \
    --channel 16 --num-cells 5 --track-running-stats "$bn" "$@"
}

search_darts() {
  require_args 2 "DATASET SEED [extra search-cell.py flags]" "${@:3}"
  local algo=$1 name=$2 dataset=$3 seed
  seed=$(launch_seed "$4")
  shift 4
  search_cell "$algo" darts "${OUTPUT_DIR:-output}/search-cell-darts/${name}-${dataset}/seed-${seed}" \
    "$dataset" "$seed" "$@"
}
