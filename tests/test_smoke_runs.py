"""Smoke runs below one epoch ($AUTODL_MAX_STEPS_PER_EPOCH / --max-steps-per-epoch) and the fake-data CLI
(exps/prepare.py fake-cifar10 DIR ...), whose default sizes fit the shipped splits."""
import json
import os
import subprocess
from pathlib import Path

import pytest
import torch

from autodl.data import cifar10_split, load_test_halves
from autodl.data.fakes import FAKE_SETS
from autodl.data.loader import make_loader
from autodl.engine.rundir import RunDir
from autodl.engine.trainer import Task, Trainer
from autodl.errors import CheckpointError
from autodl.utils import MAX_STEPS_VARIABLE
from warm_python import run_script, shim_env

ROOT = Path(__file__).resolve().parents[1]


class CountingTask(Task):
    """Ten batches per epoch; records the (epoch, fraction) of every step."""

    def __init__(self):
        self.train_loader = [torch.ones(1)] * 10
        self.steps = []

    def train_step(self, batch, epoch, fraction):
        self.steps.append((epoch, fraction))
        return {"n": 1}

    def state_dict(self):
        return {"steps": len(self.steps)}

    def load_state_dict(self, state):
        pass


def test_the_cap_ends_every_epoch_and_the_schedule_still_spans_it(tmp_path, monkeypatch):
    task = CountingTask()
    Trainer(task, epochs=2, max_steps=4).fit()
    assert task.steps == [(e, f) for e in range(2) for f in (0, 0.25, 0.5, 0.75)]
    monkeypatch.setenv(MAX_STEPS_VARIABLE, "3")  # what the flag and the launchers set
    task = CountingTask()
    run = RunDir(tmp_path / "run", echo=False)
    run.prepare({"what": "counting"})
    Trainer(task, epochs=1, run=run).fit()
    assert len(task.steps) == 3 and "at most 3 steps" in run.log_path.read_text()
    monkeypatch.delenv(MAX_STEPS_VARIABLE)
    with pytest.raises(CheckpointError, match="trained with at most 3 steps per epoch, this run asks for whole epochs"):
        Trainer(CountingTask(), epochs=2, run=run).fit()  # a capped run never continues as a full one
    monkeypatch.setenv(MAX_STEPS_VARIABLE, "zero")
    with pytest.raises(ValueError, match="is not a positive integer"):
        Trainer(CountingTask(), epochs=1)


def test_the_cap_shortens_evaluation_loaders_only(monkeypatch):
    data = torch.utils.data.TensorDataset(torch.arange(100))
    monkeypatch.setenv(MAX_STEPS_VARIABLE, "2")
    assert len(make_loader(data, 10, shuffle=False)) == 2 and len(make_loader(data, 10, shuffle=True)) == 10


def test_the_fake_sets_default_sizes_are_what_the_shipped_splits_index():
    train_valid = cifar10_split()
    assert sorted(train_valid.train + train_valid.valid) == list(range(FAKE_SETS["cifar10"].n_train))
    halves = load_test_halves("cifar100")
    assert sorted(halves.xvalid + halves.xtest) == list(range(FAKE_SETS["cifar100"].n_test))
    halves = load_test_halves("ImageNet16-120")  # labels are i % 1000 + 1: 120 of every 1000 val images stay
    assert sorted(halves.xvalid + halves.xtest) == list(range(FAKE_SETS["ImageNet16"].n_test * 120 // 1000))
    for fake in FAKE_SETS.values():
        assert fake.split_problem(fake.n_train, fake.n_test) is None
        assert fake.split_problem(fake.n_train - 1, fake.n_test - 1) == fake.split_rule


def test_a_fake_cifar100_runs_a_search_launcher_in_one_step(tmp_path):
    data = tmp_path / "torch" / "cifar.python"
    done = run_script(ROOT / "exps" / "prepare.py", "fake-cifar100", data)
    assert done.returncode == 0 and done.stdout == f"fake cifar100: 5000 train / 10000 test images -> {data}\n"
    env = shim_env(dict(os.environ, TORCH_HOME=str(tmp_path / "torch"), OUTPUT_DIR=str(tmp_path / "out"),
                        BENCHMARK="none", WORKERS="0", **{MAX_STEPS_VARIABLE: "1"}))
    done = subprocess.run(["bash", ROOT / "scripts-search" / "algos" / "DARTS-V1.sh", "cifar100", "0", "1", "--epochs",
                           "1", "--channel", "2", "--num-cells", "1", "--batch-size", "8", "--test-batch-size", "8",
                           "--quiet"], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    run = tmp_path / "out" / "search-cell-nas-bench-201" / "DARTS-V1-cifar100-BN0" / "seed-1"
    assert "every epoch ends after at most 1 steps" in (run / "log.txt").read_text()
    assert json.loads((run / "metrics.jsonl").read_text())["epoch"] == 0 and (run / "result.json").is_file()


def test_a_small_fake_set_says_which_splits_it_breaks(tmp_path):
    done = run_script(ROOT / "exps" / "prepare.py", "fake-cifar10", tmp_path, "--train", 50, "--test", 10)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1] == (f"note: {FAKE_SETS['cifar10'].split_rule}, so those settings and splits "
                                           "refuse this set; plain training works")
    assert sorted(p.name for p in (tmp_path / "cifar-10-batches-py").iterdir()) == [
        "batches.meta", *(f"data_batch_{i}" for i in range(1, 6)), "test_batch"]


def test_the_flag_caps_a_training_run(tmp_path):
    done = run_script(ROOT / "exps" / "basic-main.py", "--dataset", "digits16", "--model",
                      ROOT / "configs" / "archs" / "CIFAR-SmallCNN.json", "--optim",
                      ROOT / "configs" / "opts" / "digits-E10-W1-COS.json", "--epochs", 1, "--warmup", 0, "--quiet",
                      "--device", "cpu", "--batch-size", 16, "--max-steps-per-epoch", 2, "--save-dir", tmp_path)
    assert done.returncode == 0, done.stderr
    assert "smoke run: every epoch ends after at most 2 steps" in (tmp_path / "log.txt").read_text()
