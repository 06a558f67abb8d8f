"""NASP (Yao et al., AAAI 2020): architecture search by proximal iterations, on 8 or 12 ops.

The architecture parameters ``A`` stay continuous and live in the box ``[0, 1]``; forward and
backward passes use the discrete architecture ``Ā = prox_C1(A)``, the one-hot of each edge's largest
parameter.  Each step (the paper's Algorithm 2, first order):

1. ``Ā = prox_C1(A)``;
2. ``A = prox_C2(A - ε ∇_Ā (L_val(w, Ā) + η R(Ā)))``: the gradient with respect to the *discrete*
   weights (every op of an edge contributes its output times the loss gradient), applied to the
   continuous ``A`` by the architecture optimiser (Adam, as DARTS), then clipped to ``[0, 1]``;
3. ``Ā = prox_C1(A)`` again;
4. a weight step on ``L_train(w, Ā)`` in which only the selected op of each edge runs.

``R(Ā) = Σ_edges Σ_k Ā_k · p_k / max_k p_k`` is the model-complexity regulariser: ``p_k`` is the
parameter count of op ``k`` at the supernet's width (``max`` over the ops of that edge's cell type),
so ``R`` counts the chosen parametric ops, weighted by size; ``η`` is ``complexity_weight`` (0 in the
shipped recipes).  ``nasp-12ops`` searches NASP's 12 ops on the DARTS space, split by cell type as in
the authors' code: :data:`~autodl.spaces.nasnet.NASP_NORMAL_OPS` in normal cells,
:data:`~autodl.spaces.nasnet.NASP_REDUCE_OPS` (parameter-free, so never penalised) in reduction cells.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from ...config import SearchConfig, setting
from ...errors import ConfigError
from ...models.ops import build_op
from ..registry import register_algorithm
from .base import SearchTask, prefixed


def prox_one_hot(alpha: torch.Tensor) -> torch.Tensor:
    """``prox_C1``: the one-hot of each row's largest entry (the first one on ties)."""
    return F.one_hot(alpha.detach().argmax(dim=-1), alpha.shape[-1]).to(alpha.dtype)


def op_costs(op_names: list[str] | tuple[str, ...], channels: int) -> torch.Tensor:
    """Each op's parameter count at ``channels`` in and out, divided by the largest (``none``: 0)."""
    counts = torch.tensor([0.0 if name == "none" else
                           float(sum(p.numel() for p in build_op(name, channels, channels, 1).parameters()))
                           for name in op_names], dtype=torch.float64)
    return counts / counts.max().clamp_min(1.0)


@dataclass(frozen=True)
class NASPSettings(SearchConfig):
    complexity_weight: float = setting(0.0, "NASP: weight of the parameter-count regulariser (eta)")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.complexity_weight < 0:
            raise ConfigError(f"complexity_weight must be >= 0, got {self.complexity_weight}")


@register_algorithm("nasp", recipe="NASP")
@register_algorithm("nasp-12ops", recipe="NASP-12ops", spaces=("darts",), title="NASP(12ops)",
                    op_set="nasp-12ops")
class NASP(SearchTask):
    """Proximal-iteration search: continuous parameters in [0, 1], discrete forward and backward."""

    Settings = NASPSettings

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # one cost vector per architecture tensor, over its cell type's ops
        self.costs = [op_costs(ops, self.config.channel).float().to(self.device) for ops in self.supernet.op_lists]
        self.project()

    @torch.no_grad()
    def project(self) -> None:
        """``prox_C2``: clip every architecture parameter to [0, 1]."""
        for alpha in self.arch_parameters:
            alpha.clamp_(0.0, 1.0)

    def discrete(self) -> tuple[list[torch.Tensor], list[list[int]]]:
        onehots = [prox_one_hot(alpha) for alpha in self.arch_parameters]
        return onehots, [o.argmax(dim=-1).tolist() for o in onehots]

    def search_step(self, inputs, targets, arch_inputs, arch_targets) -> dict[str, Any]:
        sums = self.proximal_arch_step(arch_inputs, arch_targets)
        return {**self.weight_step(inputs, targets, indices=self.discrete()[1]), **sums}

    def proximal_arch_step(self, arch_inputs: torch.Tensor, arch_targets: torch.Tensor) -> dict[str, Any]:
        """Steps 1-2: the gradient at the one-hot architecture, applied to A, then clipped to [0, 1]."""
        onehots = [o.requires_grad_() for o in self.discrete()[0]]
        self.a_optimizer.zero_grad(set_to_none=True)
        logits = self.forward(arch_inputs, onehots)
        loss = self.criterion(logits, arch_targets)
        gradients = torch.autograd.grad(loss, onehots)
        for alpha, grad, costs in zip(self.arch_parameters, gradients, self.costs):
            # d(eta R)/dĀ_k = eta p_k: the regulariser is linear in the discrete weights
            alpha.grad = grad + self.config.complexity_weight * costs
        self.apply_arch_gradients()
        self.project()
        return self._sums("arch_", loss.detach(), logits.detach(), arch_targets)

    def arch_probabilities(self) -> list[torch.Tensor]:
        """The parameters normalised per edge (uniform on an all-zero edge): NASP has no softmax."""
        rows = [alpha.detach().clamp_min(0.0) for alpha in self.arch_parameters]
        return [torch.where(r.sum(-1, keepdim=True) > 0, r / r.sum(-1, keepdim=True).clamp_min(1e-12),
                            torch.full_like(r, 1.0 / r.shape[-1])) for r in rows]

    def derivation_tables(self) -> list[torch.Tensor]:
        """The parameters themselves (the DARTS rule on the NASNet space ranks them, not a softmax)."""
        return [alpha.detach() for alpha in self.arch_parameters]

    def select(self, epoch: int) -> dict[str, Any]:
        """The discrete architecture on the valid set."""
        return prefixed("valid_", self.evaluate(self.loaders.valid, indices=self.discrete()[1]))
