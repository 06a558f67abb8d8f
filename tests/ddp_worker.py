"""Run by tests/test_distributed.py under ``torchrun --nproc_per_node 2``: trains on 2 CPU processes
(gloo) through the library and saves each rank's final weights to ``<out>/rank<R>.pt``."""
import os
import sys

import torch

from autodl.config import OptimConfig
from autodl.engine.train import train_classifier


def main() -> None:
    out = sys.argv[1]
    optim = OptimConfig(epochs=1, warmup=0, LR=0.05, momentum=0.9, batch_size=64)
    result = train_classifier({"name": "small-cnn", "channels": 4}, optim, "digits16", os.path.join(out, "run"),
                              seed=5, device="cpu", progress=False, echo=False)
    torch.save(result.model.state_dict(), os.path.join(out, f"rank{os.environ['RANK']}.pt"))


if __name__ == "__main__":
    main()
