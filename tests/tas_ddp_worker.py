"""Run by tests/test_tas_search.py under torchrun: a 1-epoch TAS search on digits16; each rank saves its model."""
import os
import sys
from pathlib import Path

import torch

from autodl.algorithms.shape import ShapeSearchConfig, run_shape_search
from autodl.config import OptimConfig

ROOT = Path(__file__).resolve().parents[1]

if __name__ == "__main__":
    out = Path(sys.argv[1])
    optim = OptimConfig(epochs=1, LR=0.1, momentum=0.9, nesterov=True, decay=5e-4, batch_size=64)
    result = run_shape_search(ROOT / "configs" / "archs" / "CIFAR-ResNet08.json", optim, ShapeSearchConfig(), "digits16",
                              out / "run", seed=-1, echo=False, progress=False)
    rank = int(os.environ.get("RANK", 0))  # the process group is gone once the search returns
    torch.save({"model": result.task.model.state_dict(), "shapes": [(r["xchannels"], r["xblocks"]) for r in result.history],
                "best": result.best}, out / f"rank{rank}.pt")
