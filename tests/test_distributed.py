"""Classification under torchrun (2 CPU processes, gloo): the ranks train on disjoint shards and step with
the average of their gradients, which is recomputed here in one process from the batches they saw."""
import json
import subprocess
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

from autodl.models import create_model

from helpers import free_port

WORKER = Path(__file__).with_name("ddp_worker.py")
MODEL = {"name": "small-cnn", "channels": 4, "num_classes": 10}


def test_two_gloo_processes_step_with_the_averaged_gradient_of_their_disjoint_shards(tmp_path):
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port",
               str(free_port()), str(WORKER), str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1)]

    # each rank reads its own half of the 1,437 training images (DistributedSampler repeats one to even them)
    shards = [set(rank["shard"].tolist()) for rank in ranks]
    assert len(shards[0] | shards[1]) == 1437 and len(shards[0] & shards[1]) <= 1
    assert not torch.equal(ranks[0]["inputs"], ranks[1]["inputs"])

    # both start from the weights that the seed gives in a single process
    torch.manual_seed(5)
    reference = create_model(MODEL)
    for rank in ranks:
        assert all(torch.equal(rank["before"][name], p) for name, p in reference.named_parameters())

    # the gradient each rank stepped with is the mean of the two shards' gradients (BatchNorm normalises each
    # process's batch on its own, as DDP does without SyncBatchNorm)
    parameters = dict(reference.named_parameters())
    shard_grads = []
    for rank in ranks:
        loss = F.cross_entropy(reference(rank["inputs"])[1], rank["targets"])
        shard_grads.append(dict(zip(parameters, torch.autograd.grad(loss, list(parameters.values())))))
    mean = {name: (shard_grads[0][name] + shard_grads[1][name]) / 2 for name in parameters}
    for shard in shard_grads:  # so that a rank stepping with its own gradient is told apart
        assert not torch.allclose(shard["classifier.weight"], mean["classifier.weight"], rtol=1e-2)
    for rank in ranks:
        for name in parameters:
            torch.testing.assert_close(rank["grads"][name], mean[name], rtol=1e-4, atol=1e-6)

    # and SGD's step on it gives the weights both ranks hold after the first step
    optimizer = torch.optim.SGD(reference.parameters(), lr=ranks[0]["lr"], momentum=0.9, nesterov=True,
                                weight_decay=5e-4)
    for name, p in parameters.items():
        p.grad = mean[name]
    optimizer.step()
    for rank in ranks:
        for name, p in parameters.items():
            torch.testing.assert_close(rank["after"][name], p.detach(), rtol=1e-4, atol=1e-6)

    # the ranks end identical, and away from where they started
    for name in ranks[0]["final"]:
        assert torch.equal(ranks[0]["final"][name], ranks[1]["final"][name]), name
    assert not torch.equal(ranks[0]["final"]["classifier.weight"], ranks[0]["before"]["classifier.weight"])
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["world_size"] == 2
    assert len((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()) == 1  # only rank 0 writes
