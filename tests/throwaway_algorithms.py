"""Three searches a researcher might add, each written as the one file the extension point asks for, registered
when ``$AUTODL_PLUGINS`` names this module (tests/test_extension.py runs the registry's tests on them):

- ``soft-gumbel-test`` changes only the relaxation (the SNAS shape): soft Gumbel-softmax samples at a
  temperature annealed from ``tau_max`` to ``tau_min``, first order, on the spaces' own supernets;
- ``partial-channel-test`` changes the mixed op (the PC-DARTS shape): half of each edge's input channels go
  through the ops, the rest bypass them, the halves are shuffled, and every node normalises its incoming
  edges by a softmax over extra architecture logits; DARTS-V1's steps, on both spaces;
- ``restart-walk-test``, a multi-trial optimiser: a (1+1) random walk over mutations with restarts, its
  options declared in its own ``Options``.
"""
import dataclasses
import functools
from typing import Any

import torch
import torch.nn.functional as F

from autodl.algorithms import register_algorithm
from autodl.algorithms.multitrial import Optimizer, Options, Proposal, register_optimizer
from autodl.algorithms.oneshot import SearchTask
from autodl.algorithms.oneshot.darts import DARTS
from autodl.config import SearchConfig, setting
from autodl.models import register_model
from autodl.models.mixed import MixedEdge
from autodl.models.supernet_nasnet import NASNetSearchCell, NASNetSuperNet
from autodl.models.supernet_nb201 import EdgeCell, NB201SuperNet
from autodl.spaces.nasnet import num_edges


# ------------------------------------------------------------------ a new relaxation (SNAS shape)
@dataclasses.dataclass(frozen=True)
class SoftGumbelSettings(SearchConfig):
    tau_max: float = setting(10.0, "soft-gumbel-test: the first epoch's temperature")
    tau_min: float = setting(0.1, "soft-gumbel-test: the last epoch's temperature")


@register_algorithm("soft-gumbel-test", recipe="GDAS")
class SoftGumbel(SearchTask):
    Settings = SoftGumbelSettings

    def start_epoch(self, epoch: int, total_epochs: int) -> None:
        super().start_epoch(epoch, total_epochs)
        config = self.config
        self.tau = config.tau_max - (config.tau_max - config.tau_min) * epoch / max(total_epochs - 1, 1)

    def samples(self) -> list[torch.Tensor]:
        """softmax((alpha + Gumbel noise) / tau), the noise from the rank-consistent generator."""
        noise = [-torch.empty(a.shape).exponential_(generator=self.generator).log().to(a.device)
                 for a in self.arch_parameters]
        return [F.softmax((a + g) / self.tau, dim=-1) for a, g in zip(self.arch_parameters, noise)]

    def search_step(self, inputs, targets, arch_inputs, arch_targets):
        sums = self.weight_step(inputs, targets, weights=self.samples())
        return {**sums, **self.arch_step(arch_inputs, arch_targets, self.samples())}


# ------------------------------------------------------------------ a new mixed op (PC-DARTS shape)
class PartialEdge(MixedEdge):
    """The ops see the first half of the channels; the other half bypasses them (max-pooled where the
    edge reduces); the two halves are shuffled together."""

    def __init__(self, C: int, stride: int, track_running_stats: bool, op_names) -> None:
        super().__init__(C // 2, stride, track_running_stats, op_names)

    def forward(self, inputs, weights, index):
        half = inputs.shape[1] // 2
        out = super().forward(inputs[:, :half], weights, index)
        if out is None:
            return None
        bypass = inputs[:, half:] if self.stride == 1 else F.max_pool2d(inputs[:, half:], 2, 2)
        both = torch.stack([out, bypass], dim=2)  # channel shuffle of the two groups
        return both.flatten(1, 2)


class PartialNB201Cell(EdgeCell):
    Edge = PartialEdge
    extra_arch_shapes = {"edge_logits": (6,)}

    def edge_scales(self, edge_logits):
        return torch.cat([F.softmax(edge_logits[to * (to - 1) // 2:to * (to + 1) // 2], dim=0) for to in (1, 2, 3)])


class PartialNASNetCell(NASNetSearchCell):
    Edge = PartialEdge
    extra_arch_shapes = {"normal_edge_logits": (14,), "reduce_edge_logits": (14,)}

    def edge_scales(self, normal_edge_logits, reduce_edge_logits):
        logits = reduce_edge_logits if self.reduction else normal_edge_logits
        return torch.cat([F.softmax(logits[num_edges(i):num_edges(i) + i + 2], dim=0) for i in range(4)])


register_model("search.nb201-partial-test", functools.partial(NB201SuperNet, cell=PartialNB201Cell))
register_model("search.nasnet-partial-test", functools.partial(NASNetSuperNet, cell=PartialNASNetCell))


@register_algorithm("partial-channel-test", recipe="DARTS", order=1)
class PartialChannel(DARTS):
    supernets = {"nas-bench-201": "search.nb201-partial-test", "darts": "search.nasnet-partial-test"}


# ------------------------------------------------------------------ a new multi-trial optimiser
@dataclasses.dataclass(frozen=True)
class WalkOptions(Options):
    patience: int = setting(8, "proposals without improvement before a restart from a random cell", count=True)
    accept_ties: bool = setting(True, "move to a mutant that scores as well as the incumbent")


@register_optimizer("restart-walk-test")
class RestartWalk(Optimizer):
    """A (1+1) random walk with restarts: propose a mutation of the incumbent, keep it when it scores at least as
    well (``accept_ties``) or better, and start again from a random candidate after ``patience`` proposals that
    did not improve."""

    Options = WalkOptions

    def __init__(self, space, seed: int, **options: Any) -> None:
        super().__init__(space, seed, **options)
        self.incumbent, self.best, self.stale = None, None, 0

    def ask(self) -> Proposal:
        if self.incumbent is None or self.stale >= self.options.patience:
            self.incumbent, self.best, self.stale = None, None, 0
            return Proposal(self.space.sample(self.rng))
        return Proposal(self.space.mutate(self.incumbent, self.rng))

    def tell(self, proposal: Proposal, score: float) -> None:
        if self.best is None or score > self.best or (self.options.accept_ties and score == self.best):
            improved = self.best is None or score > self.best
            self.incumbent, self.best = proposal.candidate, score
            self.stale = 0 if improved else self.stale + 1
        else:
            self.stale += 1

    def state_dict(self) -> dict[str, Any]:
        incumbent = None if self.incumbent is None else self.space.to_json(self.incumbent)
        return {**super().state_dict(), "incumbent": incumbent, "best": self.best, "stale": self.stale}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        incumbent = state["incumbent"]
        self.incumbent = None if incumbent is None else self.space.from_json(incumbent)
        self.best, self.stale = state["best"], state["stale"]
