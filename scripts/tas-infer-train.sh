#!/usr/bin/env bash
# Train a TAS-searched shape from scratch, normally and by knowledge distillation, like the original
# scripts/tas-infer-train.sh.
#   bash scripts/tas-infer-train.sh DATASET CONFIG SEED [extra basic-main.py / KD-main.py flags]
# DATASET: cifar10, cifar100 (data under $TORCH_HOME/cifar.python), imagenet-1k, or digits (built in).
# CONFIG:  a shipped shape (configs/NeurIPS-2019/<CONFIG>.json, e.g. C010-ResNet56) or the path of a shape
#          config written by a search (<search run>/seed-S-best.json).
# SEED:    -1 = a new random seed, which names the run directories (rerun with it to resume).
# Recipe: configs/opts/CIFAR-E300-W5-L1-COS.json (300+5 epochs, LR 0.1 cosine, wd 5e-4, batch 256); digits:
# configs/opts/digits-E10-W1-COS.json; imagenet-1k: configs/opts/ImageNet-E120-Cos-Smooth.json (the original's
# ImageNet recipe file does not exist). Runs, each resumed when re-run:
#   1. normal training                 $OUTPUT_DIR/tas-infer/DATASET/<name>/seed-SEED-NMT
#   2. the teacher, unless $TEACHER names a checkpoint (<run>/checkpoint/best.pth): the unpruned CIFAR ResNet
#      of the shape (configs/archs/CIFAR-ResNet<depth>.json), same recipe
#                                      $OUTPUT_DIR/tas-teacher/DATASET/CIFAR-ResNet<depth>/seed-SEED
#      (ImageNet shapes need $TEACHER)
#   3. KD training (alpha 0.9, T 4)    $OUTPUT_DIR/tas-infer/DATASET/<name>/seed-SEED-KDT
# Environment: OUTPUT_DIR (default ./output), WORKERS (default 4, at most one per CPU core; 0 for digits), DEVICE, DRY_RUN=1 (print
# the commands instead of running them). Quick CPU check:
#   bash scripts/tas-infer-train.sh digits C010-ResNet20 1 --epochs 1 --warmup 0
set -euo pipefail
if [ "$#" -lt 3 ]; then
  echo "usage: bash $0 DATASET CONFIG SEED [extra training flags]   (got $# arguments)" >&2
  exit 2
fi
dataset=$1 config=$2
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/scripts-search/launcher-common.sh"
seed=$(launch_seed "$3")
shift 3
shape="$here/configs/NeurIPS-2019/${config}.json"
[ -f "$shape" ] || shape=$config
if [ ! -f "$shape" ]; then
  echo "error: no shape config '$config' (looked for configs/NeurIPS-2019/${config}.json and the path itself)" >&2
  exit 2
fi
name=$(basename "$shape" .json)
depth=$(python -c "import json, sys; print(json.load(open(sys.argv[1])).get('depth', ''))" "$shape")
base_name=CIFAR-ResNet$depth
base="$here/configs/archs/$base_name.json"
workers=$(default_workers 4)
case "$dataset" in
  digits*) recipe="$here/configs/opts/digits-E10-W1-COS.json" workers=${WORKERS:-0} ;;
  imagenet*) recipe="$here/configs/opts/ImageNet-E120-Cos-Smooth.json" ;;
  *) recipe="$here/configs/opts/CIFAR-E300-W5-L1-COS.json" ;;
esac
out=${OUTPUT_DIR:-output}
common=(--dataset "$dataset" --optim "$recipe" --seed "$seed" --workers "$workers" --device "${DEVICE:-auto}")

teacher=${TEACHER:-}
teacher_dir=
if [ -z "$teacher" ]; then
  if [ ! -f "$base" ]; then
    echo "error: no teacher for $name: set TEACHER to a checkpoint (<run>/checkpoint/best.pth); only CIFAR ResNets of configs/archs are trained here" >&2
    exit 2
  fi
  teacher_dir="$out/tas-teacher/$dataset/$base_name/seed-$seed"
  teacher="$teacher_dir/checkpoint/best.pth"
fi

print_or_run python "$here/exps/basic-main.py" "${common[@]}" --model "$shape" \
  --save-dir "$out/tas-infer/$dataset/$name/seed-$seed-NMT" "$@"
if [ -n "$teacher_dir" ]; then
  print_or_run python "$here/exps/basic-main.py" "${common[@]}" --model "$base" --save-dir "$teacher_dir" "$@"
fi
print_or_run python "$here/exps/KD-main.py" "${common[@]}" --model "$shape" --teacher-checkpoint "$teacher" \
  --kd-alpha 0.9 --kd-temperature 4 --save-dir "$out/tas-infer/$dataset/$name/seed-$seed-KDT" "$@"
