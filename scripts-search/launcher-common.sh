# Shared by the launchers (the search launchers' common files search-cell-common.sh, search-shape-common.sh
# and, through the first, algos/multitrial-common.sh, and the training launchers of scripts/); they source
# this file, it is not run on its own.
# A launcher's command inherits AUTODL_MAX_STEPS_PER_EPOCH=N (smoke runs: N training steps per epoch and
# N batches per evaluation), like every python process.

# require_args N USAGE ARGS...: exit 2 with the launcher's usage line when fewer than N ARGS are given
require_args() {
  local count=$1 usage=$2
  shift 2
  if [ "$#" -lt "$count" ]; then
    echo "usage: bash $0 $usage   (got $# arguments)" >&2
    exit 2
  fi
}

# print_or_run COMMAND...: run COMMAND, or with DRY_RUN=1 print it shell-quoted instead
print_or_run() {
  if [ "${DRY_RUN:-0}" = 1 ]; then
    printf '%q ' "$@"
    echo
  else
    "$@"
  fi
}

# print_or_exec COMMAND...: as print_or_run, and the shell ends there (replaced by COMMAND, or exit 0 after printing)
print_or_exec() {
  if [ "${DRY_RUN:-0}" = 1 ]; then
    print_or_run "$@"
    exit 0
  fi
  exec "$@"
}

# launch_seed SEED: SEED when it is >= 0 (or not a number: the entry point refuses it); for a negative SEED,
# the original's "random seed", a new seed in 1..100000, announced on stderr.  The launchers name the run
# directory seed-<seed> after the seed it returns, so each -1 run is a new run and rerunning with the
# announced seed resumes it.
launch_seed() {
  if ! [[ "$1" =~ ^-0*[1-9][0-9]*$ ]]; then
    printf '%s' "$1"
    return
  fi
  local seed=$(( (RANDOM * 32768 + RANDOM) % 100000 + 1 ))
  echo "seed $1: drew seed $seed; rerun with seed $seed to resume this run" >&2
  printf '%s' "$seed"
}

# default_workers N: $WORKERS if set, else N capped at this machine's CPU cores (torch warns about more
# data-loading processes than cores, and they only contend)
default_workers() {
  if [ -n "${WORKERS:-}" ]; then
    printf '%s' "$WORKERS"
    return
  fi
  local cores
  cores=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc 2>/dev/null || echo 1)  # nproc obeys those
  printf '%s' $(( $1 < cores ? $1 : cores ))
}
