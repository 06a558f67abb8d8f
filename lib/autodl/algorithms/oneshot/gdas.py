"""GDAS (Dong & Yang, CVPR 2019): differentiable sampling of one op per edge with the Gumbel-softmax.

Per forward pass one Gumbel sample per architecture tensor, shared by all cells (spec 1.4 / 2.3):
``g = -log(E)``, ``E ~ Exp(1)``; ``p = softmax((log_softmax(alpha) + g) / tau)``; ``k = argmax p``;
``hard = one_hot(k) - stopgrad(p) + p``.  The forward value of ``hard`` is one-hot, so only the
selected op of each edge runs, while the gradient reaches every logit.  ``tau`` falls linearly per
epoch from ``tau_max`` (10) to ``tau_min`` (0.1).  Each step: a weight step, then an architecture
step, each with its own sample.  There is no separate validation pass: the architecture step's
accuracy is the validation accuracy, as in the original.
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


MAX_GUMBEL_DRAWS = 5


@dataclass(frozen=True)
class GDASSettings(SearchConfig):
    tau_max: float = setting(10.0, "GDAS: Gumbel-softmax temperature of the first epoch")
    tau_min: float = setting(0.1, "GDAS: temperature of the last epoch (linear in between)")

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0 < self.tau_min <= self.tau_max:
            raise ConfigError(f"need 0 < tau_min <= tau_max, got tau_min={self.tau_min}, tau_max={self.tau_max}")


def gumbel_softmax(alpha: torch.Tensor, tau: float, generator: torch.Generator, algorithm: str = "GDAS") -> torch.Tensor:
    """A relaxed one-hot sample ``softmax((log_softmax(alpha) + g) / tau)`` of each row of ``alpha``.

    The Gumbel noise ``g = -log(E)``, ``E ~ Exp(1)``, comes from ``generator`` (on the CPU, so every rank and
    every device draws the same); a draw whose probabilities are not finite is drawn again, a few times at
    most: with finite noise that only fails when ``alpha`` itself is not finite, which is an error
    (``algorithm`` names the search in its message).
    """
    log_probs = F.log_softmax(alpha, dim=-1)
    for _ in range(MAX_GUMBEL_DRAWS):
        exponential = torch.empty(alpha.shape, dtype=torch.float64).exponential_(generator=generator)
        gumbel = (-exponential.log()).to(alpha.dtype).to(alpha.device)
        probs = F.softmax((log_probs + gumbel) / tau, dim=-1)
        if torch.isfinite(gumbel).all() and torch.isfinite(probs).all():
            return probs
    raise DivergenceError(f"{algorithm}: the architecture parameters are not finite ({alpha.detach().cpu().tolist()}); "
                          "the search diverged: lower arch_LR or the learning rate and rerun from a new --save-dir")


def gumbel_hard(alpha: torch.Tensor, tau: float, generator: torch.Generator) -> tuple[torch.Tensor, list[int]]:
    """The straight-through one-hot weights of a :func:`gumbel_softmax` sample and the selected op of each row."""
    probs = gumbel_softmax(alpha, tau, generator)
    index = probs.argmax(dim=-1)
    hard = F.one_hot(index, alpha.shape[-1]).to(probs.dtype) - probs.detach() + probs
    return hard, index.tolist()


@register_algorithm("gdas", recipe="GDAS")
class GDAS(SearchTask):
    """Gradient-based search using differentiable architecture sampling."""

    Settings = GDASSettings

    tau = 10.0

    def start_epoch(self, epoch: int, total_epochs: int) -> None:
        super().start_epoch(epoch, total_epochs)
        span = self.config.tau_max - self.config.tau_min
        self.tau = self.config.tau_max - span * epoch / max(total_epochs - 1, 1)

    def sample(self) -> tuple[list[torch.Tensor], list[list[int]]]:
        draws = [gumbel_hard(alpha, self.tau, self.generator) for alpha in self.arch_parameters]
        return [hard for hard, _ in draws], [index for _, index in draws]

    def search_step(self, inputs, targets, arch_inputs, arch_targets) -> dict[str, Any]:
        weights, indices = self.sample()
        sums = self.weight_step(inputs, targets, weights, indices)
        weights, indices = self.sample()
        return {**sums, **self.arch_step(arch_inputs, arch_targets, weights, indices)}

    def select(self, epoch: int) -> dict[str, Any]:
        return {"tau": self.tau}
