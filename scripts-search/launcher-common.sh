# Shared by the search launchers' common files (search-cell-common.sh, search-shape-common.sh and, through
# the first, algos/multitrial-common.sh); they source this file, it is not run on its own.

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
