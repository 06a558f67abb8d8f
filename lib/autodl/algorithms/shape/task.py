"""The TAS search as a :class:`~autodl.engine.trainer.Task` on the shared Trainer.

Each step on a paired batch: a weight step (SGD recipe, sampled shape, cross-entropy on the train
half), then an architecture step (Adam on the width/depth logits, sampled shape, cross-entropy on the
valid half + ``flop_weight`` x the FLOP-target loss).  Each epoch ends with the sampled network on the
valid half and the argmax shape with its FLOPs and FLOP ratio.  Every draw comes from one generator,
seeded alike on every process and checkpointed, so a resumed search repeats an uninterrupted one.
"""
from __future__ import annotations

import math
from typing import Any

import torch

from ...config import OptimConfig
from ...data.search import SearchLoaders
from ...engine.classification import evaluate, to_device
from ...engine.distributed import DistInfo, average_buffers, average_gradients
from ...engine.losses import build_criterion
from ...engine.optim import build_optim_scheduler
from ...engine.trainer import Task
from ...models.shape_search import ShapeSearchResNet, flop_loss
from ..oneshot.base import SearchTask
from .config import ShapeSearchConfig

_sums = SearchTask._sums  # per-batch loss and top-1 sums, as every search reports them


def cosine_tau(config: ShapeSearchConfig, epoch: int, total_epochs: int) -> float:
    """tau_min + (tau_max - tau_min) * (1 + cos(pi * epoch / total)) / 2."""
    return config.tau_min + (config.tau_max - config.tau_min) * (1 + math.cos(math.pi * epoch / total_epochs)) / 2


class ShapeSearchTask(Task):
    """Searches ``model`` (a :class:`ShapeSearchResNet`) towards ``config.flop_ratio`` x ``max_mflops``."""

    def __init__(self, model: ShapeSearchResNet, loaders: SearchLoaders, optim: OptimConfig, config: ShapeSearchConfig,
                 device: torch.device, max_mflops: float, dist_info: DistInfo = DistInfo(), seed: int = 0) -> None:
        self.model, self.loaders, self.config, self.device, self.dist_info = model, loaders, config, device, dist_info
        self.train_loader = loaders.search
        self.w_optimizer, self.scheduler = build_optim_scheduler(model.weight_parameters(), optim)
        self.a_optimizer = torch.optim.Adam(model.arch_parameters(), lr=config.arch_LR, betas=tuple(config.arch_betas),
                                            weight_decay=config.arch_decay)
        self.criterion = build_criterion(optim)
        self.max_mflops = max_mflops
        self.target_mflops = config.flop_ratio * max_mflops
        self.tolerance_mflops = config.flop_tolerance * max_mflops
        self.generator = torch.Generator().manual_seed(seed)
        self.tau = config.tau_max

    def current_mflops(self) -> float:
        """The search's FLOP estimate of the argmax shape."""
        return self.model.shape_mflops(*self.model.current_shape())

    # ------------------------------------------------------------------------------- steps
    def weight_step(self, inputs: torch.Tensor, targets: torch.Tensor) -> dict[str, Any]:
        self.w_optimizer.zero_grad(set_to_none=True)
        with self.model.sampling(self.tau, self.generator):
            logits = self.model(inputs)[1]
        loss = self.criterion(logits, targets)
        loss.backward()
        average_gradients(self.model.weight_parameters())
        self.w_optimizer.step()
        return _sums("", loss, logits, targets)

    def arch_step(self, inputs: torch.Tensor, targets: torch.Tensor) -> dict[str, Any]:
        self.a_optimizer.zero_grad(set_to_none=True)
        with self.model.sampling(self.tau, self.generator):
            logits = self.model(inputs)[1]
        expected = self.model.expected_mflops()
        flops_term = flop_loss(expected, self.current_mflops(), self.target_mflops, self.tolerance_mflops)
        loss = self.criterion(logits, targets) + self.config.flop_weight * flops_term
        loss.backward()
        average_gradients(self.model.arch_parameters())
        self.a_optimizer.step()
        n = len(targets)
        return {**_sums("arch_", loss, logits, targets), "flop_loss": flops_term.detach() * n,
                "expected_mflops": expected.detach() * n}

    # --------------------------------------------------------------------------- task hooks
    def start_epoch(self, epoch: int, total_epochs: int) -> None:
        self.scheduler.update(epoch, 0.0)
        self.tau = cosine_tau(self.config, epoch, total_epochs)
        for loader in (self.loaders.search, self.loaders.train):
            sampler = getattr(loader, "sampler", None)
            if hasattr(sampler, "set_epoch"):
                sampler.set_epoch(epoch)
        self.model.train()

    def train_step(self, batch: Any, epoch: int, fraction: float) -> dict[str, Any]:
        self.scheduler.update(epoch, fraction)
        inputs, targets, arch_inputs, arch_targets = (to_device(t, self.device) for t in batch)
        return {**self.weight_step(inputs, targets), **self.arch_step(arch_inputs, arch_targets), "n": len(targets)}

    def end_epoch(self, epoch: int, total_epochs: int) -> dict[str, Any]:
        average_buffers(self.model)
        with self.model.sampling(self.tau, self.generator):
            valid = evaluate(self.model, self.loaders.valid, self.criterion, self.device)
        xchannels, xblocks = self.model.current_shape()
        mflops = self.model.shape_mflops(xchannels, xblocks)
        ratio = mflops / self.max_mflops
        return {"lr": self.scheduler.get_lr()[0], "tau": self.tau, "valid_loss": valid["loss"],
                "valid_top1": valid["top1"], "mflops": mflops, "flop_ratio": ratio,
                "within_tolerance": abs(ratio - self.config.flop_ratio) <= self.config.flop_tolerance,
                "xchannels": xchannels, "xblocks": xblocks}

    def state_dict(self) -> dict[str, Any]:
        return {"model": self.model.state_dict(), "w_optimizer": self.w_optimizer.state_dict(),
                "a_optimizer": self.a_optimizer.state_dict(), "scheduler": self.scheduler.state_dict(),
                "generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.w_optimizer.load_state_dict(state["w_optimizer"])
        self.a_optimizer.load_state_dict(state["a_optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.generator.set_state(state["generator"])


def best_epoch(history: list[dict[str, Any]], flop_ratio: float) -> dict[str, Any]:
    """The epoch record to keep: the best valid top-1 among epochs whose FLOP ratio lies within the tolerance
    of the target; when none does, the epoch closest to the target (higher valid top-1 on a tie)."""
    within = [record for record in history if record["within_tolerance"]]
    if within:
        return max(within, key=lambda record: record["valid_top1"])
    return min(history, key=lambda record: (abs(record["flop_ratio"] - flop_ratio), -record["valid_top1"]))
