"""TAS launchers: the commands they run, their errors, and the whole pipeline on the built-in digits set."""
import json
import os
import subprocess
from pathlib import Path

import pytest

from autodl.models import create_model

ROOT = Path(__file__).resolve().parents[1]


def launch(script, *args, tmp_path, **env):
    environment = dict(os.environ, OUTPUT_DIR=str(tmp_path / "out"), OMP_NUM_THREADS="1", **env)
    return subprocess.run(["bash", str(ROOT / script), *map(str, args)], capture_output=True, text=True,
                          env=environment)


@pytest.mark.parametrize("script, mode", [("scripts-search/search-shape-cifar.sh", "shape"),
                                          ("scripts-search/search-width-gumbel.sh", "width"),
                                          ("scripts-search/search-depth-gumbel.sh", "depth")])
def test_search_launchers_run_the_paper_settings_then_both_trainings(tmp_path, script, mode):
    result = launch(script, "cifar10", "ResNet56", "CIFARX", 0.47, 3, "--epochs", 2, tmp_path=tmp_path, DRY_RUN="1",
                    TRAIN_FLAGS="--epochs 1")
    assert result.returncode == 0, result.stderr
    search, train = result.stdout.strip().splitlines()
    for flag in (f"--mode {mode}", "--flop-ratio 0.47", "--flop-weight 2", "--flop-tolerance 0.05", "--arch-lr 0.001",
                 "--tau-max 5", "--tau-min 0.1", "--seed 3", "configs/search-opts/CIFARX.json",
                 "configs/archs/CIFAR-ResNet56.json", "cifar.python", "--epochs 2"):
        assert flag in search
    save_dir = tmp_path / "out" / f"search-{mode}" / "cifar10-ResNet56-CIFARX-0.47" / "seed-3"
    assert f"scripts/tas-infer-train.sh cifar10 {save_dir}/seed-3-best.json 3 --epochs 1" in train
    # a random seed searches only: the shape's file name is not known in advance
    only = launch(script, "cifar10", "ResNet56", "CIFARX", 0.47, -1, tmp_path=tmp_path, DRY_RUN="1")
    assert len(only.stdout.strip().splitlines()) == 1


def test_infer_train_launcher_trains_normally_the_teacher_and_by_kd(tmp_path):
    result = launch("scripts/tas-infer-train.sh", "cifar100", "C100-ResNet110", 5, "--epochs", 3, tmp_path=tmp_path,
                    DRY_RUN="1")
    assert result.returncode == 0, result.stderr
    normal, teacher, distill = result.stdout.strip().splitlines()
    out = tmp_path / "out"
    assert "configs/NeurIPS-2019/C100-ResNet110.json" in normal and "CIFAR-E300-W5-L1-COS.json" in normal
    assert f"{out}/tas-infer/cifar100/C100-ResNet110/seed-5-NMT" in normal
    assert "configs/archs/CIFAR-ResNet110.json" in teacher and f"{out}/tas-teacher/cifar100/CIFAR-ResNet110/seed-5" in teacher
    assert "KD-main.py" in distill and "--kd-alpha 0.9 --kd-temperature 4" in distill
    assert f"--teacher-checkpoint {out}/tas-teacher/cifar100/CIFAR-ResNet110/seed-5/checkpoint/best.pth" in distill
    given = launch("scripts/tas-infer-train.sh", "cifar10", "C010-ResNet20", 5, tmp_path=tmp_path, DRY_RUN="1",
                   TEACHER="teacher/checkpoint/best.pth")
    assert len(given.stdout.strip().splitlines()) == 2 and "--teacher-checkpoint teacher/checkpoint/best.pth" in given.stdout


@pytest.mark.parametrize("script, args, message", [
    ("scripts/tas-infer-train.sh", ["cifar10", "C010-ResNet99", 1], "no shape config"),
    ("scripts/tas-infer-train.sh", ["imagenet-1k", "ImageNet-ResNet50V1", 1], "set TEACHER"),
    ("scripts-search/search-shape-cifar.sh", ["cifar10", "ResNet57", "CIFARX", 0.5, 1], "no model config"),
    ("scripts-search/search-shape-cifar.sh", ["cifar10", "ResNet56", 0.5, 1], "usage"),
    ("scripts-search/search-width-gumbel.sh", ["cifar10", "ResNet56", 0.5, 1], "usage"),
    ("scripts-search/search-depth-gumbel.sh", [], "usage"),
])
def test_launchers_refuse_bad_arguments_in_one_line_before_running_anything(tmp_path, script, args, message):
    result = launch(script, *args, tmp_path=tmp_path)
    assert result.returncode == 2 and message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == "" and not (tmp_path / "out").exists()


@pytest.mark.slow
def test_digits_pipeline_searches_resnet20_at_half_the_flops_then_trains_the_shape_by_kd(tmp_path):
    result = launch("scripts-search/search-shape-cifar.sh", "digits", "ResNet20", "digits-TAS", 0.5, 1, "--epochs", 4,
                    "--quiet", tmp_path=tmp_path, TRAIN_FLAGS="--epochs 1 --warmup 0 --quiet")
    assert result.returncode == 0, result.stderr[-3000:]
    out = tmp_path / "out"
    search = out / "search-shape" / "digits-ResNet20-digits-TAS-0.5" / "seed-1"
    best = json.loads((search / "seed-1-best.json").read_text())
    records = [json.loads(line) for line in (search / "metrics.jsonl").read_text().splitlines()]
    kept = [r for r in records if (r["xchannels"], r["xblocks"]) == (best["xchannels"], best["xblocks"])]
    assert kept and abs(kept[0]["flop_ratio"] - 0.5) <= 0.05  # the best shape lies within the FLOP tolerance
    assert kept[0]["mflops"] == pytest.approx(best["estimated_FLOP"], abs=1e-5)
    create_model(best)
    runs = out / "tas-infer" / "digits" / "seed-1-best"
    distill = json.loads((runs / "seed-1-KDT" / "config.json").read_text())
    assert distill["distill"]["alpha"] == 0.9 and distill["distill"]["temperature"] == 4.0
    assert distill["model"]["xchannels"] == best["xchannels"]
    for run in ("seed-1-NMT", "seed-1-KDT"):
        assert "test_top1" in json.loads((runs / run / "metrics.jsonl").read_text().splitlines()[-1])
