import json
import subprocess
import sys
from pathlib import Path

import torch

from autodl.models import create_model

WORKER = Path(__file__).with_name("ddp_worker.py")


def test_two_gloo_processes_end_with_identical_weights(tmp_path):
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29517",
               str(WORKER), str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    rank0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    rank1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    assert rank0.keys() == rank1.keys()
    for key in rank0:
        assert torch.equal(rank0[key], rank1[key]), key
    initial = create_model({"name": "small-cnn", "channels": 4, "num_classes": 10}).state_dict()
    assert not torch.equal(initial["classifier.weight"], rank0["classifier.weight"])  # it trained
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["world_size"] == 2
    assert len((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()) == 1  # only rank 0 writes
