"""A search under torchrun (2 CPU processes, gloo): the ranks train on disjoint shards, yet, because the
architecture and weight gradients are averaged and every draw comes from a rank-consistent generator,
they end with bitwise-identical supernets and the same architecture every epoch."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from autodl.algorithms import ALGORITHMS

from helpers import free_port
from tiny_search import cost

WORKER = Path(__file__).with_name("search_ddp_worker.py")


CASES = [(name, space) for name in ALGORITHMS.names() for space in ALGORITHMS.get(name).spaces]
FAST = min(CASES, key=lambda case: cost(*case))  # one run on the fast path, every registered case with -m slow


@pytest.mark.parametrize("algorithm,space", [pytest.param(*case, marks=() if case == FAST else pytest.mark.slow)
                                             for case in CASES])
def test_two_gloo_processes_search_the_same_architecture_on_different_shards(tmp_path, algorithm, space):
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port",
               str(free_port()), str(WORKER), str(tmp_path), algorithm, space]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1)]
    shards = [set(rank["shard"].tolist()) for rank in ranks]
    # each rank trains on its own half (DistributedSampler repeats one index to even out 1,077 items)
    assert len(shards[0] | shards[1]) == 1077 and len(shards[0] & shards[1]) <= 1
    assert all((rank["arch_steps"] > 0).all() for rank in ranks)  # the architecture was updated
    for key, value in ranks[0]["supernet"].items():
        assert torch.equal(value, ranks[1]["supernet"][key]), key
    assert ranks[0]["arch"] == ranks[1]["arch"] and ranks[0]["archs"] == ranks[1]["archs"]
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["world_size"] == 2 and config["seed"] >= 1  # one seed drawn on rank 0, shared by rank 1
    assert len((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()) == 2  # only rank 0 writes
