# Shared by the TAS launchers (scripts-search/search-shape-cifar.sh, search-width-gumbel.sh,
# search-depth-gumbel.sh); they source this file.
#
#   search_shape MODE DATASET MODEL OPTIM RATIO SEED [extra exps/search-shape.py flags]
#     MODE     shape (widths and depths), width or depth
#     DATASET  cifar10, cifar100 (data under $TORCH_HOME/cifar.python) or digits (built in)
#     MODEL    a CIFAR ResNet of configs/archs without the CIFAR- prefix: ResNet20, ResNet32, ResNet56,
#              ResNet110, ResNet164
#     OPTIM    a search recipe of configs/search-opts (CIFARX: 600 epochs, used by every documented
#              command; CIFAR, CIFARXX; digits-TAS for a CPU demo) or a recipe path
#     RATIO    the FLOP target as a share of the unpruned FLOPs (e.g. 0.47)
#     SEED     -1 = a new random seed, which names the run directory (then only the search runs)
# The search runs in $OUTPUT_DIR/search-MODE/DATASET-MODEL-OPTIM-RATIO/seed-SEED and writes seed-SEED-best.json;
# with SEED >= 0 that shape is then trained normally and by KD (alpha 0.9, T 4) by scripts/tas-infer-train.sh,
# which receives $TRAIN_FLAGS (e.g. TRAIN_FLAGS="--epochs 1 --warmup 0").  Extra flags go to the search last,
# so they override the ones set here.  Environment: OUTPUT_DIR (default ./output), TORCH_HOME, WORKERS
# (default 4, at most one per CPU core; 0 for digits), DEVICE, DRY_RUN=1 (print the commands instead of running them).

shape_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$shape_root/scripts-search/launcher-common.sh"

search_shape() {
  require_args 5 "DATASET MODEL OPTIM RATIO SEED [extra search-shape.py flags]" "${@:2}"
  local mode=$1 dataset=$2 model=$3 optim=$4 ratio=$5 given_seed=$6 seed
  seed=$(launch_seed "$6")
  shift 6
  local model_config="$shape_root/configs/archs/CIFAR-${model}.json"
  local recipe="$shape_root/configs/search-opts/${optim}.json"
  [ -f "$recipe" ] || recipe=$optim
  if [ ! -f "$model_config" ] || [ ! -f "$recipe" ]; then
    echo "error: no model config configs/archs/CIFAR-${model}.json or no search recipe '$optim' (configs/search-opts/<name>.json or a path)" >&2
    exit 2
  fi
  local workers data=()
  workers=$(default_workers 4)
  case "$dataset" in
    digits*) workers=${WORKERS:-0} ;;
    *) data=(--data-path "${TORCH_HOME:-$HOME/.cache/torch}/cifar.python") ;;
  esac
  local save_dir="${OUTPUT_DIR:-output}/search-$mode/${dataset}-${model}-$(basename "$recipe" .json)-${ratio}/seed-${seed}"
  local command=(python "$shape_root/exps/search-shape.py" --mode "$mode" --dataset "$dataset"
                 --model "$model_config" --optim "$recipe" --flop-ratio "$ratio" --flop-weight 2
                 --flop-tolerance 0.05 --arch-lr 0.001 --arch-decay 0.001 --tau-max 5 --tau-min 0.1
                 --seed "$seed" --workers "$workers" --device "${DEVICE:-auto}" --save-dir "$save_dir"
                 "${data[@]}" "$@")
  local train=() trainings=()
  read -r -a train <<< "${TRAIN_FLAGS:-}"
  if [ "$given_seed" -ge 0 ]; then  # as in the original, a random seed only searches
    trainings=(bash "$shape_root/scripts/tas-infer-train.sh" "$dataset" "$save_dir/seed-$seed-best.json" "$seed"
               "${train[@]}")
  fi
  print_or_run "${command[@]}"
  if [ "${#trainings[@]}" -gt 0 ]; then
    print_or_run "${trainings[@]}"
  fi
}
