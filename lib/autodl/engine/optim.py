"""Optimisers and learning-rate schedules built from an :class:`~autodl.config.OptimConfig`.

Every schedule has the same per-iteration linear warm-up: while ``t = epoch + fraction`` is below
``warmup``, ``lr = base * t / warmup``.  After it, ``lr_per`` says how the schedule moves.

``lr_per = "epoch"`` (default) is the original's (lib/procedures/optimizers.py): the LR is a function
of the epoch index alone, ``e = epoch - warmup``:

- ``cos``: ``eta_min + (base - eta_min) * (1 + cos(pi * e / T)) / 2`` with ``T = T_max or epochs``
  (not clamped: ``T < epochs`` oscillates, as the original's ENAS recipe with ``T_max = 10`` does),
  and ``eta_min`` once ``epoch >= epochs``, so with a warm-up the last ``warmup`` epochs run flat at
  ``eta_min``;
- ``linear``: ``base * (1 - (LR - eta_min) * e / (epochs * LR))``;
- ``multistep``, ``exponential`` and ``constant`` as below (they change at epoch boundaries only).

``lr_per = "iteration"``: ``e = t - warmup`` runs from 0 to ``epochs`` within epochs too:

- ``cos``: ``eta_min + (base - eta_min) * (1 + cos(pi * min(e, T) / T)) / 2``, so it reaches
  ``eta_min`` exactly at the last step;
- ``multistep``: ``base * prod(gammas[:k])``, ``k`` = number of milestones <= ``floor(e)``;
- ``exponential``: ``base * gamma ** floor(e)``;
- ``linear``: ``base + (eta_min - base) * e / epochs``;
- ``constant``: ``base``.
"""
from __future__ import annotations

import math
from typing import Iterable

import torch

from ..config import OptimConfig


def build_optimizer(params: Iterable, config: OptimConfig) -> torch.optim.Optimizer:
    """SGD (momentum, Nesterov) or RMSprop with the recipe's LR, momentum and weight decay."""
    if config.optim == "SGD":
        return torch.optim.SGD(params, lr=config.LR, momentum=config.momentum,
                               weight_decay=config.decay, nesterov=config.nesterov)
    return torch.optim.RMSprop(params, lr=config.LR, momentum=config.momentum,
                               weight_decay=config.decay)


def scheduled_lr(config: OptimConfig, base: float, epoch: int, fraction: float = 0.0) -> float:
    """The learning rate at iteration ``fraction`` (in [0, 1)) of ``epoch`` for a group whose base LR is ``base``."""
    t = epoch + fraction
    if t < config.warmup:
        return base * t / config.warmup
    kind = config.scheduler
    if config.lr_per == "epoch":
        if kind == "cos":
            if epoch >= config.epochs:
                return config.eta_min
            period = config.T_max or config.epochs
            angle = math.pi * (epoch - config.warmup) / period
            return config.eta_min + (base - config.eta_min) * (1 + math.cos(angle)) / 2
        if kind == "linear":
            return base * (1 - (config.LR - config.eta_min) * (epoch - config.warmup) / config.epochs / config.LR)
    e = t - config.warmup
    if kind == "cos":
        period = config.T_max or config.epochs
        return config.eta_min + (base - config.eta_min) * (1 + math.cos(math.pi * min(e, period) / period)) / 2
    if kind == "multistep":
        passed = sum(1 for milestone in config.milestones if milestone <= math.floor(e))
        return base * math.prod(config.gammas[:passed])
    if kind == "exponential":
        return base * config.gamma ** math.floor(e)
    if kind == "linear":
        return base + (config.eta_min - base) * min(e, config.epochs) / config.epochs
    return base


class LRScheduler:
    """Sets every parameter group's LR from :func:`scheduled_lr`; call :meth:`update` each iteration."""

    def __init__(self, optimizer: torch.optim.Optimizer, config: OptimConfig) -> None:
        self.optimizer, self.config = optimizer, config
        self.base_lrs = [group.get("initial_lr", group["lr"]) for group in optimizer.param_groups]
        for group, base in zip(optimizer.param_groups, self.base_lrs):
            group["initial_lr"] = base
        self.epoch, self.fraction = 0, 0.0

    def update(self, epoch: int, fraction: float = 0.0) -> None:
        self.epoch, self.fraction = epoch, fraction
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = scheduled_lr(self.config, base, epoch, fraction)

    def get_lr(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict:
        return {"base_lrs": list(self.base_lrs), "epoch": self.epoch, "fraction": self.fraction}

    def load_state_dict(self, state: dict) -> None:
        self.base_lrs = list(state["base_lrs"])
        self.update(state["epoch"], state["fraction"])

    def __repr__(self) -> str:
        c = self.config
        return (f"LRScheduler({c.scheduler}, epochs={c.epochs}, warmup={c.warmup}, "
                f"epoch={self.epoch}, lr={self.get_lr()})")


def build_optim_scheduler(params: Iterable, config: OptimConfig) -> tuple[torch.optim.Optimizer, LRScheduler]:
    optimizer = build_optimizer(params, config)
    return optimizer, LRScheduler(optimizer, config)


def drop_path_schedule(max_prob: float, epoch: int, total_epochs: int) -> float:
    """Drop-path probability at the start of ``epoch``: grows linearly from 0 to ``max_prob``."""
    return max_prob * epoch / total_epochs
