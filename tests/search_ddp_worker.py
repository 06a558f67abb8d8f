"""Run by tests/test_search_distributed.py under ``torchrun --nproc_per_node 2``: a search on 2 CPU
processes (gloo) through the library; each rank saves its final state to ``<out>/rank<R>.pt``."""
import os
import sys

import torch

from autodl.algorithms.oneshot.run import run_search
from autodl.algorithms import algorithm_config
from autodl.config import OptimConfig

from tiny_search import EVERY_EPOCH, tiny_values


def main() -> None:
    out, algorithm, space = sys.argv[1:4]
    optim = OptimConfig(epochs=2, LR=0.025, eta_min=0.001, momentum=0.9, nesterov=True, decay=5e-4)
    search = algorithm_config(algorithm, space=space, **tiny_values(algorithm, **EVERY_EPOCH))  # two epochs each
    result = run_search(algorithm, optim, search, "digits16", os.path.join(out, "run"), seed=-1, batch_size=64,
                        device="cpu", progress=False, echo=False)
    task = result.task
    torch.save({"arch": str(result.arch), "supernet": task.supernet.state_dict(),
                "archs": [record["arch"] if isinstance(record["arch"], str) else str(record["arch"])
                          for record in result.history],
                "shard": torch.tensor(list(task.loaders.search.sampler)),
                "arch_steps": torch.tensor([s["step"] for s in task.a_optimizer.state_dict()["state"].values()]
                                           if task.a_optimizer is not None else [])},
               os.path.join(out, f"rank{os.environ['RANK']}.pt"))


if __name__ == "__main__":
    main()
