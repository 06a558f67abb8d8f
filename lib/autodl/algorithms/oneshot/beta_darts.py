"""beta-DARTS (Ye et al., CVPR 2022): first-order DARTS with the Beta-Decay regulariser on the architecture step.

The architecture loss is ``L_val(w, alpha) + lambda_e * L_beta(alpha)`` with
``L_beta = mean over edges of logsumexp_k(alpha_{e,k})``, the smooth maximum of each edge's logits (its
gradient is ``softmax(alpha_e) / edges``: it lowers every logit in proportion to its softmax weight, keeping
the activated parameters' values and variance small).  The mean runs over the edges of every op table (NB201:
6; the NASNet space: the normal and the reduction cell's 14 each).  The weight rises linearly with the epoch,
``lambda_e = beta_decay_weight * e / E`` (0 in the first epoch), as the official code (Sunshine-Ye/Beta-DARTS,
``Architect.mlc_loss`` and ``_backward_step``: ``50 * epoch / 100`` in its 100-epoch NB201 search).
The weight step and the derivation are DARTS-V1's.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import torch

from ...config import setting
from ...errors import ConfigError
from ..registry import register_algorithm
from .darts import DARTS, DARTSSettings


@dataclass(frozen=True)
class BetaDARTSSettings(DARTSSettings):
    beta_decay_weight: float = setting(50.0, "beta-DARTS: weight of the Beta-Decay regulariser after the last epoch "
                                             "(epoch e of E uses weight * e / E)")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.beta_decay_weight < 0:
            raise ConfigError(f"beta_decay_weight must be >= 0, got {self.beta_decay_weight}")


def beta_decay(alphas: Sequence[torch.Tensor]) -> torch.Tensor:
    """The Beta-Decay loss: the mean over every edge (row) of every op table of ``logsumexp`` of its logits."""
    return torch.cat([torch.logsumexp(alpha, dim=-1) for alpha in alphas]).mean()


@register_algorithm("beta-darts", recipe="BETA-DARTS", title="beta-DARTS", order=1)
class BetaDARTS(DARTS):
    """First-order DARTS whose architecture step adds the Beta-Decay regulariser at a linearly rising weight."""

    Settings = BetaDARTSSettings

    regulariser_weight = 0.0

    def start_epoch(self, epoch: int, total_epochs: int) -> None:
        super().start_epoch(epoch, total_epochs)
        self.regulariser_weight = self.config.beta_decay_weight * epoch / total_epochs

    def arch_step(self, inputs: torch.Tensor, targets: torch.Tensor, weights: list[torch.Tensor],
                  indices: list[list[int]] | None = None) -> dict[str, Any]:
        """One Adam step of alpha on ``L_val + lambda_e * L_beta`` (the metrics hold ``L_val``)."""
        self.a_optimizer.zero_grad(set_to_none=True)
        logits = self.forward(inputs, weights, indices)
        loss = self.criterion(logits, targets)
        (loss + self.regulariser_weight * beta_decay(self.arch_parameters)).backward()
        self.apply_arch_gradients()
        return self._sums("arch_", loss, logits, targets)

    def select(self, epoch: int) -> dict[str, Any]:
        return {"beta_decay_weight": self.regulariser_weight,
                "beta_decay": float(beta_decay(self.arch_parameters).detach()), **super().select(epoch)}
