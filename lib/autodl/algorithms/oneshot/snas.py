"""SNAS (Xie et al., ICLR 2019): soft Gumbel-softmax samples of each edge's ops, temperature annealed, first order.

Every forward pass draws one relaxed one-hot sample per architecture tensor, shared by all cells:
``g = -log(E)``, ``E ~ Exp(1)``; ``z = softmax((log_softmax(alpha) + g) / tau)``.  The sample is soft (no
straight-through, no arg-max): every op of an edge runs, weighted by ``z``, and the gradient of the loss reaches
``alpha`` through ``z`` (the SNAS search gradient).  Each step is first order: a weight step on the training
batch under one sample, then an architecture step on the architecture batch under another.  The temperature
falls linearly per epoch as in the official code (SNAS-Series ``utils.Temp_Scheduler``, stepped once before
each epoch): ``tau_e = tau_max - (tau_max - tau_min) (e + 1) / E``, from 1 towards 0.03 by default, reaching
``tau_min`` in the last epoch.  The cell is derived from ``softmax(alpha)``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from ...config import setting
from ..registry import register_algorithm
from .base import SearchTask
from .gdas import GDASSettings, gumbel_softmax


@dataclass(frozen=True)
class SNASSettings(GDASSettings):
    """GDAS's temperature settings (and their check) with the official SNAS code's defaults."""

    tau_max: float = setting(1.0, "SNAS: the temperature tau_0 the linear schedule starts from (1, the official code)")
    tau_min: float = setting(0.03, "SNAS: the temperature of the last epoch (0.03, the official code)")


def temperature(epoch: int, total_epochs: int, tau_max: float, tau_min: float) -> float:
    """The temperature of epoch ``epoch`` (0-based) of ``total_epochs``: the official scheduler's
    ``tau_min + (tau_max - tau_min)(1 - (epoch + 1) / total_epochs)``, ``tau_min`` in the last epoch."""
    return tau_max - (tau_max - tau_min) * (epoch + 1) / total_epochs


@register_algorithm("snas", recipe="SNAS")
class SNAS(SearchTask):
    """Stochastic NAS: soft Gumbel-softmax samples of the ops at an annealed temperature, first order."""

    Settings = SNASSettings

    tau = 1.0

    def start_epoch(self, epoch: int, total_epochs: int) -> None:
        super().start_epoch(epoch, total_epochs)
        self.tau = temperature(epoch, total_epochs, self.config.tau_max, self.config.tau_min)

    def samples(self) -> list[torch.Tensor]:
        """One soft sample per architecture tensor, shared by every cell of a forward pass."""
        return [gumbel_softmax(alpha, self.tau, self.generator, "SNAS") for alpha in self.arch_parameters]

    def search_step(self, inputs, targets, arch_inputs, arch_targets) -> dict[str, Any]:
        sums = self.weight_step(inputs, targets, weights=self.samples())
        return {**sums, **self.arch_step(arch_inputs, arch_targets, self.samples())}

    def select(self, epoch: int) -> dict[str, Any]:
        return {"tau": self.tau, **super().select(epoch)}
