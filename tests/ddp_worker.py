"""Run by tests/test_distributed.py under ``torchrun --nproc_per_node 2``: one epoch of small-cnn on digits16
through ``train_classifier`` on 2 CPU processes (gloo).  Each rank saves to ``<out>/rank<R>.pt`` what its
first optimiser step saw (its shard of the training set, the batch, the weights before, the gradients it
stepped with, the learning rate, the weights after) and its final weights, for the test to recompute."""
import os
import sys

import torch

from autodl.config import OptimConfig
from autodl.engine.classification import ClassifierTask
from autodl.engine.train import train_classifier

OPTIM = OptimConfig(epochs=1, warmup=0, LR=0.05, momentum=0.9, nesterov=True, decay=5e-4, batch_size=256)


def record_first_step(first: dict) -> None:
    """Wrap ClassifierTask.train_step so that the first call fills ``first`` (observation only)."""
    step = ClassifierTask.train_step

    def recorded(self, batch, epoch, fraction):
        if first:
            return step(self, batch, epoch, fraction)
        parameters = dict(self.base_model.named_parameters())
        first.update(shard=torch.tensor(list(self.train_loader.sampler)), inputs=batch[0].clone(),
                     targets=batch[1].clone(), before={k: v.detach().clone() for k, v in parameters.items()})
        sums = step(self, batch, epoch, fraction)
        first.update(grads={k: v.grad.clone() for k, v in parameters.items()}, lr=self.optimizer.param_groups[0]["lr"],
                     after={k: v.detach().clone() for k, v in parameters.items()})
        return sums

    ClassifierTask.train_step = recorded


def main() -> None:
    out = sys.argv[1]
    first: dict = {}
    record_first_step(first)
    result = train_classifier({"name": "small-cnn", "channels": 4}, OPTIM, "digits16", os.path.join(out, "run"),
                              seed=5, device="cpu", progress=False, echo=False)
    final = {k: v.detach().clone() for k, v in result.model.named_parameters()}
    torch.save({**first, "final": final}, os.path.join(out, f"rank{os.environ['RANK']}.pt"))


if __name__ == "__main__":
    main()
