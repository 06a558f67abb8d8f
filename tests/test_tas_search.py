"""TAS search: steps move FLOPs toward the target, the entry point writes buildable shapes, exact resume."""
import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from autodl.algorithms.shape import ShapeSearchConfig, ShapeSearchTask, best_epoch, cosine_tau
from autodl.cli import run_main
from autodl.config import OptimConfig
from autodl.data import SearchLoaders
from autodl.engine import get_model_infos
from autodl.models import create_model

from helpers import Kill, free_port, kill_and_resume

ROOT = Path(__file__).resolve().parents[1]
CPU = torch.device("cpu")
OPTIM = OptimConfig(epochs=2, LR=0.05, momentum=0.9, decay=5e-4, nesterov=True, batch_size=8)


def generated_loaders(batches=6, size=16, seed=0):
    generator = torch.Generator().manual_seed(seed)
    pairs = [(torch.randn(8, 3, size, size, generator=generator), torch.randint(0, 4, (8,), generator=generator),
              torch.randn(8, 3, size, size, generator=generator), torch.randint(0, 4, (8,), generator=generator))
             for _ in range(batches)]
    return SearchLoaders(pairs, [p[:2] for p in pairs], [p[:2] for p in pairs], 4)


def task_for(flop_ratio, mode="width", seed=0):
    torch.manual_seed(seed)
    net = create_model({"name": "search.shape-cifar-resnet", "depth": 8, "num_classes": 4, "mode": mode,
                        "input_size": 16})
    with torch.no_grad():  # uniform logits (weight decay has nothing to pull); the argmax shape is the narrowest
        for logits in net.arch_parameters():
            logits.zero_()
    max_mflops = get_model_infos(net, (1, 3, 16, 16))[0]
    config = ShapeSearchConfig(mode=mode, flop_ratio=flop_ratio)
    return ShapeSearchTask(net, generated_loaders(), OPTIM, config, CPU, max_mflops, seed=seed)


@pytest.mark.parametrize("flop_ratio, direction", [(0.05, -1), (0.9, +1)])
def test_search_steps_move_the_expected_flops_toward_the_target(flop_ratio, direction):
    task = task_for(flop_ratio)
    task.start_epoch(0, 2)
    start = task.model.expected_mflops().item()
    trace = []
    for batch in task.loaders.search:
        record = task.train_step(batch, 0, 0.0)
        trace.append(task.model.expected_mflops().item())
        assert float(record["flop_loss"]) * direction < 0  # -log E[F] below the target, +log E[F] above it
    steps = [b - a for a, b in zip([start] + trace, trace)]
    assert all(step * direction > 0 for step in steps), (start, trace)


def test_inside_the_tolerance_only_the_cross_entropy_moves_the_shape():
    task = task_for(0.1)  # the narrowest shape (the uniform argmax) lies within 0.05 below a 10% target: no FLOP term
    task.start_epoch(0, 2)
    record = task.train_step(next(iter(task.loaders.search)), 0, 0.0)
    assert float(record["flop_loss"]) == 0.0


def test_a_search_epoch_records_the_shape_and_its_flop_ratio():
    task = task_for(0.5, mode="shape")
    task.start_epoch(0, 2)
    for batch in task.loaders.search:
        task.train_step(batch, 0, 0.0)
    record = task.end_epoch(0, 2)
    config = task.model.shape_config(record["xchannels"], record["xblocks"])
    assert record["flop_ratio"] == pytest.approx(config["estimated_FLOP"] / task.max_mflops)
    assert record["within_tolerance"] == (abs(record["flop_ratio"] - 0.5) <= 0.05)
    assert create_model(config)(torch.zeros(1, 3, 16, 16))[1].shape == (1, 4)


def test_tau_follows_the_cosine_from_tau_max_to_tau_min():
    config = ShapeSearchConfig()
    assert cosine_tau(config, 0, 10) == 5.0
    assert cosine_tau(config, 5, 10) == pytest.approx(2.55)
    assert cosine_tau(config, 10, 10) == pytest.approx(0.1)


def test_the_best_shape_is_the_most_accurate_within_the_tolerance():
    history = [{"epoch": 0, "valid_top1": 90.0, "flop_ratio": 0.70, "within_tolerance": False},
               {"epoch": 1, "valid_top1": 60.0, "flop_ratio": 0.52, "within_tolerance": True},
               {"epoch": 2, "valid_top1": 70.0, "flop_ratio": 0.47, "within_tolerance": True},
               {"epoch": 3, "valid_top1": 80.0, "flop_ratio": 0.33, "within_tolerance": False}]
    assert best_epoch(history, 0.5)["epoch"] == 2
    assert best_epoch([history[0], history[3]], 0.5)["epoch"] == 3  # none within: the closest to the target


def search_command(save_dir, epochs=2, extra=()):
    return [sys.executable, str(ROOT / "exps" / "search-shape.py"), "--dataset", "digits16",
            "--model", str(ROOT / "configs" / "archs" / "CIFAR-ResNet08.json"),
            "--optim", str(ROOT / "configs" / "search-opts" / "digits-TAS.json"), "--save-dir", str(save_dir),
            "--epochs", str(epochs), "--batch-size", "64", "--seed", "7", "--flop-ratio", "0.5", *extra]


def test_a_search_killed_by_sigkill_resumes_to_the_same_trajectory_and_shapes(tmp_path):
    full_dir, killed_dir = kill_and_resume(search_command, tmp_path, [Kill(1, mid_epoch=True)])
    for name in ("seed-7-last.json", "seed-7-best.json"):
        assert json.loads((full_dir / name).read_text()) == json.loads((killed_dir / name).read_text())
    records = [json.loads(line) for line in (killed_dir / "metrics.jsonl").read_text().splitlines()]
    assert all({"xchannels", "xblocks", "flop_ratio", "mflops", "valid_top1", "tau"} <= set(r) for r in records)
    best = create_model(killed_dir / "seed-7-best.json")
    assert best(torch.zeros(1, 3, 16, 16))[1].shape == (1, 10)


SEARCH_SHAPE = runpy.run_path(str(ROOT / "exps" / "search-shape.py"))


@pytest.mark.parametrize("change, message", [
    ({"--flop-ratio": "1.5"}, "flop_ratio must lie in (0, 1]"),
    ({"--mode": "both"}, "invalid choice"),
    ({"--model": str(ROOT / "configs" / "archs" / "CIFAR-DenseBC100-12.json")}, "TAS searches the shapes of"),
])
def test_bad_search_arguments_are_one_line_errors_and_write_nothing(tmp_path, capsys, change, message):
    command = search_command(tmp_path / "run", 1)[2:]
    for flag, value in change.items():
        if flag in command:
            command[command.index(flag) + 1] = value
        else:
            command += [flag, value]
    with pytest.raises(SystemExit) as exit_info:
        run_main(SEARCH_SHAPE["main"], command)
    error = capsys.readouterr().err
    assert exit_info.value.code == 2 and message in error and len(error.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_two_gloo_processes_search_the_same_shape(tmp_path):
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port",
               str(free_port()), str(ROOT / "tests" / "tas_ddp_worker.py"), str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=False) for r in (0, 1)]
    for key, value in ranks[0]["model"].items():  # averaged gradients and rank-consistent draws: identical models
        assert torch.equal(value, ranks[1]["model"][key]), key
    assert ranks[0]["shapes"] == ranks[1]["shapes"] and ranks[0]["best"] == ranks[1]["best"]
    assert json.loads((tmp_path / "run" / "config.json").read_text())["world_size"] == 2


def test_the_default_split_halves_every_class_as_prepare_py_does(tmp_path):
    from autodl.algorithms.shape.run import balanced_halves
    from autodl.data import get_datasets, get_search_loaders, read_train_valid_split

    path = tmp_path / "digits-split.json"
    with pytest.raises(SystemExit):
        run_main(runpy.run_path(str(ROOT / "exps" / "prepare.py"))["main"], ["--name", "digits", "--save", str(path)])
    train = get_datasets("digits").train
    assert balanced_halves(train) == read_train_valid_split(path, len(train))
    loaders = get_search_loaders("digits", batch_size=64, workers=0, split=balanced_halves)
    halves = balanced_halves(train)
    assert len(loaders.search.dataset) == len(halves.train) and len(loaders.valid.dataset) == len(halves.valid)


def test_search_shape_writes_an_ablation_baseline_without_searching(tmp_path, capsys):
    argv = ["--dataset", "digits", "--model", str(ROOT / "configs" / "archs" / "CIFAR-ResNet32.json"), "--save-dir",
            str(tmp_path), "--baseline", "fix", "--flop-ratio", "0.5"]
    with pytest.raises(SystemExit) as exit_info:
        run_main(SEARCH_SHAPE["main"], argv)
    assert exit_info.value.code == 0, capsys.readouterr().err
    config = json.loads((tmp_path / "fix-0.5-seed-0.json").read_text())
    assert config["xchannels"][:3] == [3, 11, 11] and config["xblocks"] == [5, 5, 5]
    assert not (tmp_path / "checkpoint").exists()  # nothing was trained
