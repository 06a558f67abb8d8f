import dataclasses
import json
import sys
from pathlib import Path

import pytest

from autodl.config import OptimConfig
from autodl.engine.rundir import RunDir
from autodl.engine.train import evaluate_checkpoint, train_classifier
from autodl.errors import CheckpointError

from helpers import Kill, kill_and_resume, read_metrics

ROOT = Path(__file__).resolve().parents[1]
RECIPE = ROOT / "configs" / "opts" / "digits-E10-W1-COS.json"

MODEL = {"name": "small-cnn", "channels": 4}
OPTIM = OptimConfig(epochs=3, warmup=1, LR=0.1, momentum=0.9, nesterov=True, decay=5e-4, batch_size=128)


def run(save_dir, **kw):
    return train_classifier(MODEL, OPTIM, "digits16", save_dir, seed=7, device="cpu", progress=False,
                            echo=False, **kw).history


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    """One uninterrupted run shared by the tests below (training is the slow part)."""
    save_dir = tmp_path_factory.mktemp("full")
    return save_dir, run(save_dir)


def test_basic_main_killed_by_sigkill_resumes_to_identical_weights_and_metrics(tmp_path):
    """exps/basic-main.py with two data-loading workers (their seeds come from torch's generator, which the
    checkpoint restores), killed right after epoch 0's checkpoint and again inside epoch 1."""
    model = tmp_path / "model.json"
    model.write_text(json.dumps(MODEL))

    def command(save_dir):
        return [sys.executable, str(ROOT / "exps" / "basic-main.py"), "--model", str(model), "--optim", str(RECIPE),
                "--dataset", "digits16", "--epochs", "2", "--warmup", "1", "--batch-size", "128", "--workers", "2",
                "--seed", "7", "--device", "cpu", "--save-dir", str(save_dir)]

    full_dir, _ = kill_and_resume(command, tmp_path, [Kill(1), Kill(0, mid_epoch=True)])
    history = read_metrics(full_dir)
    assert len(history) == 3 and history[-1]["train_loss"] < history[0]["train_loss"]


def test_a_run_trains_and_times_its_epochs(full_run):
    full = full_run[1]
    assert len(full) == 4 and full[-1]["train_loss"] < full[0]["train_loss"] and full[-1]["test_top1"] > 20.0
    assert 0 < full[0]["train_time_s"] < full[0]["epoch_time_s"] and full[0]["test_time_s"] > 0


def test_run_directory_contents_and_evaluation(full_run):
    run_dir, history = full_run
    files = sorted(p.relative_to(run_dir).as_posix() for p in run_dir.rglob("*") if p.is_file())
    assert files == ["checkpoint/best.pth", "checkpoint/last.pth", "config.json", "log.txt", "metrics.jsonl"]
    config = json.loads((run_dir / "config.json").read_text())
    assert config["model"] == dict(MODEL, num_classes=10) and config["optim"]["LR"] == 0.1 and config["seed"] == 7
    log = (run_dir / "log.txt").read_text()
    assert '"torch": "' in log and "device=cpu" in log and "MFLOPs" in log
    result = evaluate_checkpoint(run_dir / "checkpoint" / "last.pth", device="cpu")
    assert result["test_top1"] == pytest.approx(history[-1]["test_top1"])
    assert result["epoch"] == history[-1]["epoch"] == 3  # numbered as in metrics.jsonl


def test_resuming_with_another_config_is_refused_naming_the_keys(full_run):
    with pytest.raises(CheckpointError, match=r"different config \(differs in: optim.LR\); use the same settings"):
        train_classifier(MODEL, dataclasses.replace(OPTIM, LR=0.2), "digits16", full_run[0], seed=7, device="cpu",
                         progress=False, echo=False)


def test_run_directory_without_a_checkpoint_takes_a_new_config(tmp_path):
    run = RunDir(tmp_path / "run", echo=False)
    run.prepare({"model": "a", "seed": 1})
    run.log("first attempt")
    run.prepare({"model": "a", "seed": 1})  # the same config: nothing to replace
    run.prepare({"model": "b", "seed": 1})
    assert json.loads(run.config_path.read_text()) == {"model": "b", "seed": 1}
    log = run.log_path.read_text().splitlines()
    assert len(log) == 2 and log[0].endswith("first attempt")
    assert log[1].endswith("replaced a config that differs in: model, since the directory has no "
                           "checkpoint/last.pth (nothing was trained)")
    run.config_path.write_text("{not json")
    run.prepare({"model": "c"})
    assert json.loads(run.config_path.read_text()) == {"model": "c"}
    assert "replaced an unreadable config.json" in run.log_path.read_text()


def test_run_directory_with_a_checkpoint_refuses_a_new_config(tmp_path):
    run = RunDir(tmp_path / "run", echo=False)
    run.prepare({"model": "a", "seed": 1})
    run.last_checkpoint.write_bytes(b"a checkpoint")
    run.prepare({"model": "a", "seed": 1})
    with pytest.raises(CheckpointError, match=r"holds a run with a different config \(differs in: model, seed\)"):
        run.prepare({"model": "b", "seed": 2})
    run.config_path.write_text("[1, 2]")
    with pytest.raises(CheckpointError, match="config.json is corrupt"):
        run.prepare({"model": "a", "seed": 1})
    assert run.config_path.read_text() == "[1, 2]" and not run.log_path.exists()


def test_distillation_from_a_teacher_run(tmp_path, full_run):
    teacher = full_run[0] / "checkpoint" / "best.pth"
    optim = OptimConfig(epochs=1, LR=0.05, momentum=0.9, batch_size=128)
    result = train_classifier({"name": "small-cnn", "channels": 2}, optim, "digits16", tmp_path / "kd", seed=1,
                              device="cpu", progress=False, echo=False, teacher_checkpoint=str(teacher))
    record = result.history[-1]
    assert record["teacher_test_top1"] == pytest.approx(max(h["test_top1"] for h in full_run[1]))
    assert record["train_loss"] > 0 and result.model.classifier.in_features == 8
    config = json.loads((tmp_path / "kd" / "config.json").read_text())
    assert config["distill"] == {"teacher_checkpoint": str(teacher), "alpha": 0.9, "temperature": 4.0}
