import json

import pytest
import torch

from autodl.config import OptimConfig
from autodl.engine.classification import ClassifierTask
from autodl.engine.checkpoint import load_checkpoint
from autodl.engine.train import evaluate_checkpoint, train_classifier
from autodl.errors import CheckpointError

MODEL = {"name": "small-cnn", "channels": 4}
OPTIM = OptimConfig(epochs=3, warmup=1, LR=0.1, momentum=0.9, nesterov=True, decay=5e-4, batch_size=128)


def run(save_dir, **kw):
    return train_classifier(MODEL, OPTIM, "digits16", save_dir, seed=7, device="cpu", progress=False,
                            echo=False, **kw).history


def without_time(history):
    return [{k: v for k, v in record.items() if k != "epoch_time_s"} for record in history]


def test_killed_run_resumes_to_identical_weights_and_metrics(tmp_path, monkeypatch):
    full = run(tmp_path / "full")
    assert len(full) == 4 and full[-1]["train_loss"] < full[0]["train_loss"] and full[-1]["test_top1"] > 20.0

    original_start = ClassifierTask.start_epoch

    def killed_at_epoch_2(self, epoch, total):
        if epoch == 2:
            raise KeyboardInterrupt("simulated kill after epoch 1's checkpoint")
        original_start(self, epoch, total)

    monkeypatch.setattr(ClassifierTask, "start_epoch", killed_at_epoch_2)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "resumed")
    monkeypatch.setattr(ClassifierTask, "start_epoch", original_start)
    assert load_checkpoint(tmp_path / "resumed" / "checkpoint" / "last.pth")["epoch"] == 2
    resumed = run(tmp_path / "resumed")
    assert without_time(resumed) == without_time(full)

    weights_full = load_checkpoint(tmp_path / "full" / "checkpoint" / "last.pth")["task"]["model"]
    weights_resumed = load_checkpoint(tmp_path / "resumed" / "checkpoint" / "last.pth")["task"]["model"]
    assert all(torch.equal(weights_full[k], weights_resumed[k]) for k in weights_full)
    lines = (tmp_path / "resumed" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [0, 1, 2, 3]


def test_run_directory_contents_and_evaluation(tmp_path):
    history = run(tmp_path / "run")
    files = sorted(p.relative_to(tmp_path / "run").as_posix() for p in (tmp_path / "run").rglob("*") if p.is_file())
    assert files == ["checkpoint/best.pth", "checkpoint/last.pth", "config.json", "log.txt", "metrics.jsonl"]
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["model"] == dict(MODEL, num_classes=10) and config["optim"]["LR"] == 0.1 and config["seed"] == 7
    log = (tmp_path / "run" / "log.txt").read_text()
    assert '"torch": "' in log and "device=cpu" in log and "MFLOPs" in log
    result = evaluate_checkpoint(tmp_path / "run" / "checkpoint" / "last.pth", device="cpu")
    assert result["test_top1"] == pytest.approx(history[-1]["test_top1"])
    assert result["epoch"] == 4


def test_resuming_with_another_config_is_refused(tmp_path):
    run(tmp_path / "run")
    with pytest.raises(CheckpointError, match=r"different config \(differs in: optim\)"):
        train_classifier(MODEL, OptimConfig(epochs=3, LR=0.2, batch_size=128), "digits16", tmp_path / "run",
                         seed=7, device="cpu", progress=False, echo=False)
