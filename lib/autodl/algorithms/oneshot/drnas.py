"""DrNAS (Chen et al., ICLR 2021): the op weights of each edge are a sample of a Dirichlet distribution.

Each edge's concentration is ``c = elu(alpha) + 1`` (positive, the official code's ``F.elu(x) + 1``);
every forward pass draws its op weights ``w ~ Dir(c)`` with the reparameterised (pathwise) sampler,
so the gradient of the loss reaches ``alpha`` through the sample.  The architecture loss adds the
anchor, ``kl_scale * sum_edges KL(Dir(c) || Dir(prior))`` with ``prior = prior_concentration``
for every op (the official ``_get_kl_reg``: ``reg_scale`` 1e-3, ``Dir(1)``).  Steps are DARTS-V1's
order (a weight step, then an architecture step, each with its own sample).  The cell is derived
from the Dirichlet mean ``c / sum(c)``, which is also the recorded distribution; evaluation uses the
mean as the op weights.

The samples come from the task's rank-consistent generator: each draw takes a 63-bit seed from
``self.generator`` and samples on the CPU inside a forked global RNG seeded with it
(``torch.distributions.Dirichlet.rsample`` draws its Gamma variates from the global generator and has
no generator argument), so DDP ranks draw the same weights, an exact resume repeats them, the draw
does not depend on the device, and the global RNG (data augmentation) is left as it was.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch.distributions import Dirichlet, kl_divergence

from ...config import SearchConfig, setting
from ...errors import ConfigError
from ..registry import register_algorithm
from .base import SearchTask

SEED_BOUND = 2 ** 63 - 1


@dataclass(frozen=True)
class DrNASSettings(SearchConfig):
    kl_scale: float = setting(1e-3, "DrNAS: weight of the anchor KL(Dir(elu(alpha)+1) || Dir(prior)) in the "
                                    "architecture loss (0: off)")
    prior_concentration: float = setting(1.0, "DrNAS: concentration of the Dirichlet prior of the anchor, every op")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.kl_scale < 0 or self.prior_concentration <= 0:
            raise ConfigError(f"DrNAS needs kl_scale >= 0 and prior_concentration > 0, got kl_scale={self.kl_scale}, "
                              f"prior_concentration={self.prior_concentration}")


def concentration(alpha: torch.Tensor) -> torch.Tensor:
    """The Dirichlet concentration of each edge (row): ``elu(alpha) + 1 > 0``."""
    return F.elu(alpha) + 1


def dirichlet_sample(concentration: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One reparameterised sample per row of ``concentration``, drawn from ``generator`` (see the module doc);
    the gradient reaches ``concentration``."""
    seed = int(torch.randint(SEED_BOUND, (), generator=generator))
    with torch.random.fork_rng(devices=[]):  # restores the global CPU generator afterwards
        torch.default_generator.manual_seed(seed)  # the CPU generator only (torch.manual_seed seeds every device)
        sample = Dirichlet(concentration.cpu()).rsample()
    return sample.to(concentration.device)


def anchor_kl(concentration: torch.Tensor, prior: float) -> torch.Tensor:
    """``sum_rows KL(Dir(concentration_row) || Dir(prior, ..., prior))``."""
    return kl_divergence(Dirichlet(concentration), Dirichlet(torch.full_like(concentration, prior))).sum()


@register_algorithm("drnas", recipe="DrNAS")
class DrNAS(SearchTask):
    """Differentiable search over Dirichlet-distributed op weights with the KL anchor."""

    Settings = DrNASSettings

    def sample(self) -> list[torch.Tensor]:
        """One Dirichlet draw of the op weights per op table."""
        return [dirichlet_sample(concentration(alpha), self.generator) for alpha in self.arch_parameters]

    def dirichlet_mean(self) -> list[torch.Tensor]:
        return [c / c.sum(dim=-1, keepdim=True) for c in map(concentration, self.arch_parameters)]

    def softmax_weights(self) -> list[torch.Tensor]:
        """The op weights of evaluation: the Dirichlet mean (the distribution's expected weights)."""
        return self.dirichlet_mean()

    def anchor(self) -> torch.Tensor:
        """``kl_scale`` times the KL of every op table's Dirichlet from the prior."""
        return self.config.kl_scale * sum(anchor_kl(concentration(alpha), self.config.prior_concentration)
                                          for alpha in self.arch_parameters)

    def search_step(self, inputs, targets, arch_inputs, arch_targets) -> dict[str, Any]:
        sums = self.weight_step(inputs, targets, weights=self.sample())
        sums.update(self.arch_step(arch_inputs, arch_targets, self.sample()))
        return {**sums, "arch_kl": self.last_anchor * len(arch_targets)}

    def apply_arch_gradients(self) -> None:
        """The architecture loss's gradient plus the anchor's, then the Adam step."""
        anchor = self.anchor()
        if self.config.kl_scale > 0:
            anchor.backward()
        self.last_anchor = anchor.detach()
        super().apply_arch_gradients()
