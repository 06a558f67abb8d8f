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
import torch.nn.functional as F

from ...config import SearchConfig, setting
from ...errors import ConfigError, DivergenceError
from ..registry import register_algorithm
from .base import SearchTask
from .gdas import MAX_GUMBEL_DRAWS


@dataclass(frozen=True)
class SNASSettings(SearchConfig):
    tau_max: float = setting(1.0, "SNAS: the temperature tau_0 the linear schedule starts from (1, the official code)")
    tau_min: float = setting(0.03, "SNAS: the temperature of the last epoch (0.03, the official code)")

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0 < self.tau_min <= self.tau_max:
            raise ConfigError(f"need 0 < tau_min <= tau_max, got tau_min={self.tau_min}, tau_max={self.tau_max}")


def temperature(epoch: int, total_epochs: int, tau_max: float, tau_min: float) -> float:
    """The temperature of epoch ``epoch`` (0-based) of ``total_epochs``: the official scheduler's
    ``tau_min + (tau_max - tau_min)(1 - (epoch + 1) / total_epochs)``, ``tau_min`` in the last epoch."""
    return tau_max - (tau_max - tau_min) * (epoch + 1) / total_epochs


def gumbel_soft(alpha: torch.Tensor, tau: float, generator: torch.Generator) -> torch.Tensor:
    """A relaxed one-hot sample ``softmax((log_softmax(alpha) + g) / tau)`` per row of ``alpha``, the Gumbel
    noise ``g`` from ``generator`` (on the CPU, so every rank draws the same); a draw that is not finite is
    drawn again, a few times at most (only a non-finite ``alpha`` fails every time: an error)."""
    log_probs = F.log_softmax(alpha, dim=-1)
    for _ in range(MAX_GUMBEL_DRAWS):
        exponential = torch.empty(alpha.shape, dtype=torch.float64).exponential_(generator=generator)
        gumbel = (-exponential.log()).to(alpha.dtype).to(alpha.device)
        sample = F.softmax((log_probs + gumbel) / tau, dim=-1)
        if torch.isfinite(gumbel).all() and torch.isfinite(sample).all():
            return sample
    raise DivergenceError(f"SNAS: the architecture parameters are not finite ({alpha.detach().cpu().tolist()}); "
                          "the search diverged: lower arch_LR or the learning rate and rerun from a new --save-dir")


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
        return [gumbel_soft(alpha, self.tau, self.generator) for alpha in self.arch_parameters]

    def search_step(self, inputs, targets, arch_inputs, arch_targets) -> dict[str, Any]:
        sums = self.weight_step(inputs, targets, weights=self.samples())
        return {**sums, **self.arch_step(arch_inputs, arch_targets, self.samples())}

    def select(self, epoch: int) -> dict[str, Any]:
        return {"tau": self.tau, **super().select(epoch)}
