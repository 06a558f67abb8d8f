# Shared by the multi-trial launchers (R-EA.sh, REINFORCE.sh, Random.sh, BOHB.sh, LS.sh, BANANAS.sh); they source this file.
#
#   search_multitrial ALGO NAME DATASET SEED [exps/search-multitrial.py flags]
#       the benchmark evaluator on NAS-Bench-201 with the original's 12,000 s simulated budget; SEED < 0 runs
#       500 searches (seeds 0..499) and writes summary.json; output
#       $OUTPUT_DIR/search-cell-nas-bench-201/NAME-DATASET/seed-<SEED> (or runs-500)
#
# Environment: OUTPUT_DIR (default ./output); BENCHMARK (default: the store or .pth of NAS-Bench-201-v1_1
# under $TORCH_HOME, see scripts-search/search-cell-common.sh); WORKERS (processes for the 500 runs, default 4, at most one per CPU core);
# DRY_RUN=1 prints the command instead of running it.  Flags after the required arguments go last.

# default_benchmark, require_args and print_or_exec come from search-cell-common.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/search-cell-common.sh"

search_multitrial() {
  local algo=$1 name=$2 dataset=$3 seed=$4
  shift 4
  local path official="${TORCH_HOME:-$HOME/.cache/torch}/NAS-Bench-201-v1_1-096897"
  path=$(default_benchmark)
  if [ "${DRY_RUN:-0}" != 1 ] && [ ! -e "${path:-$official.pth}" ]; then  # before a run directory or worker exists
    local looked="BENCHMARK=$path does not exist"
    [ -n "$path" ] || looked="no NAS-Bench-201 benchmark (looked for $official.store and $official.pth)"
    echo "error: $looked; download NAS-Bench-201-v1_1-096897.pth into \$TORCH_HOME (see docs/NAS-Bench-201.md)" \
      "or set BENCHMARK to a .pth or store" >&2
    exit 2
  fi
  path=${path:-$official.pth}
  local save_dir="${OUTPUT_DIR:-output}/search-cell-nas-bench-201/${name}-${dataset}"
  local runs=()
  if [ "$seed" -lt 0 ]; then
    save_dir="$save_dir/runs-500"
    runs=(--runs 500 --workers "$(default_workers 4)")
  else
    save_dir="$save_dir/seed-$seed"
    runs=(--seed "$seed")
  fi
  local command=(python "$search_root/exps/search-multitrial.py" --algo "$algo" --benchmark "$path" --dataset "$dataset"
                 --time-budget 12000 --save-dir "$save_dir" "${runs[@]}" "$@")
  print_or_exec "${command[@]}"
}
