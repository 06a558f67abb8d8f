"""PC-DARTS (Xu et al., ICLR 2020): partial channel connections and edge normalisation on first-order DARTS.

Partial channels: each mixed edge runs its ops on the first ``C / K`` channels of its input only; the
other ``(K - 1) C / K`` channels bypass the ops (max-pooled 2 x 2 on a stride-2 edge of a reduction
cell), and the two parts are concatenated and channel-shuffled with ``K`` groups, so the next edge
sees other channels through its ops (the official code's ``MixedOp``: ``channel_shuffle(cat([sum_k w_k
op_k(x[:, :C/K]), x[:, C/K:]]), K)``).  ``K = 1`` is the plain mixed op.

Edge normalisation: extra architecture logits ``beta``, one per edge (``beta`` on NB201,
``beta_normal`` and ``beta_reduce`` on the NASNet space), weight each node's incoming edges by the
softmax of that node's betas: ``x_i = sum_{j<i} softmax(beta_i)_j * mixed_edge_{i,j}(x_j)``.  Adam
steps them with the op logits.  The cell is derived from ``softmax(alpha)_{e,o} * softmax(beta)_e``
(the official ``genotype()``): on the NASNet space the DARTS rule ranks each node's inputs by it; on
NB201 every edge keeps its arg-max op (a positive edge weight does not change it).

Steps are DARTS-V1's (a weight step, then an architecture step, each under softmax(alpha) and the
betas), with the architecture frozen for the first ``arch_warmup`` epochs (the paper's 15).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ...config import SearchConfig, setting
from ...errors import ConfigError
from ...models import register_model
from ...models.mixed import MixedEdge
from ...models.supernet_nasnet import NASNetSearchCell, NASNetSuperNet
from ...models.supernet_nb201 import EdgeCell, NB201SuperNet
from ..registry import register_algorithm
from .darts import DARTS, DARTSSettings

# per space: the extra logits of each op table and the number of incoming edges of each node
BETA_NAMES = {"nas-bench-201": ("beta",), "darts": ("beta_normal", "beta_reduce")}
NODE_EDGES = {"nas-bench-201": (1, 2, 3), "darts": (2, 3, 4, 5)}


@dataclass(frozen=True)
class PCDARTSSettings(DARTSSettings):
    partial_channels: int = setting(4, "PC-DARTS: K, the ops of an edge see 1/K of its channels (1: all)", count=True)
    edge_normalisation: bool = setting(True, "PC-DARTS: weight each node's incoming edges by a softmax over "
                                             "extra logits beta (0: no beta)")
    arch_warmup: int = setting(0, "PC-DARTS: epochs at the start in which only the weights step")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.channel % self.partial_channels:
            raise ConfigError(f"partial_channels (K={self.partial_channels}) must divide channel ({self.channel}), "
                              f"so that every edge runs its ops on C/K channels; pick a K that divides it")
        if self.arch_warmup < 0:
            raise ConfigError(f"arch_warmup must be >= 0 epochs, got {self.arch_warmup}")


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """Interleave the ``groups`` equal channel groups of ``x``: output channel ``i * groups + g`` is channel
    ``i`` of group ``g``."""
    batch, channels, height, width = x.shape
    return x.reshape(batch, groups, channels // groups, height, width).transpose(1, 2).reshape(
        batch, channels, height, width)


class PartialChannelEdge(MixedEdge):
    """A mixed edge whose ops run on the first ``C / partial_channels`` input channels; the rest bypass them
    (max-pooled where the edge reduces) and the parts are channel-shuffled."""

    def __init__(self, C: int, stride: int, track_running_stats: bool, op_names: Sequence[str],
                 partial_channels: int = 4) -> None:
        super().__init__(C // partial_channels, stride, track_running_stats, op_names)
        self.k = partial_channels

    def forward(self, inputs: torch.Tensor, weights: torch.Tensor | None, index: int | None) -> torch.Tensor | None:
        if self.k == 1:
            return super().forward(inputs, weights, index)
        part = inputs.shape[1] // self.k
        out = super().forward(inputs[:, :part], weights, index)
        bypass = inputs[:, part:] if self.stride == 1 else F.max_pool2d(inputs[:, part:], 2, 2)
        if out is None:  # `none` selected: its channels are zero, the bypass still passes
            out = bypass.new_zeros(bypass.shape[0], part, *bypass.shape[2:])
        return channel_shuffle(torch.cat([out, bypass], dim=1), self.k)

    def extra_repr(self) -> str:
        return f"partial_channels={self.k}"


def node_softmax(beta: torch.Tensor, node_edges: Sequence[int]) -> torch.Tensor:
    """Per edge, the softmax of its node's betas at that edge (edges ordered node by node)."""
    return torch.cat([F.softmax(chunk, dim=0) for chunk in beta.split(list(node_edges))])


class PCDARTSNB201Cell(EdgeCell):
    """The NB201 search cell of partial-channel edges, with one beta per edge when ``edge_normalisation``."""

    Edge = PartialChannelEdge

    def __init__(self, C: int, track_running_stats: bool, partial_channels: int = 4,
                 edge_normalisation: bool = True) -> None:
        super().__init__(C, track_running_stats, partial_channels=partial_channels)
        self.extra_arch_shapes = {"beta": (sum(NODE_EDGES["nas-bench-201"]),)} if edge_normalisation else {}

    def edge_scales(self, **arch_inputs: torch.Tensor) -> torch.Tensor | None:
        return node_softmax(arch_inputs["beta"], NODE_EDGES["nas-bench-201"]) if arch_inputs else None


class PCDARTSNASNetCell(NASNetSearchCell):
    """The NASNet-space search cell of partial-channel edges, with one beta per edge and cell type when
    ``edge_normalisation`` (shared by all cells of that type, as the op logits)."""

    Edge = PartialChannelEdge

    def __init__(self, C_prev_prev: int, C_prev: int, C: int, reduction: bool, reduction_prev: bool,
                 track_running_stats: bool, op_names: Sequence[str], partial_channels: int = 4,
                 edge_normalisation: bool = True) -> None:
        super().__init__(C_prev_prev, C_prev, C, reduction, reduction_prev, track_running_stats, op_names,
                         partial_channels=partial_channels)
        edges = sum(NODE_EDGES["darts"])
        self.extra_arch_shapes = {name: (edges,) for name in BETA_NAMES["darts"]} if edge_normalisation else {}

    def edge_scales(self, **arch_inputs: torch.Tensor) -> torch.Tensor | None:
        if not arch_inputs:
            return None
        return node_softmax(arch_inputs["beta_reduce" if self.reduction else "beta_normal"], NODE_EDGES["darts"])


register_model("search.nb201-pc-darts", functools.partial(NB201SuperNet, cell=PCDARTSNB201Cell))
register_model("search.nasnet-pc-darts", functools.partial(NASNetSuperNet, cell=PCDARTSNASNetCell))


@register_algorithm("pc-darts", recipe="PC-DARTS", order=1)
class PCDARTS(DARTS):
    """First-order DARTS on partial-channel edges with edge normalisation."""

    Settings = PCDARTSSettings
    supernets = {"nas-bench-201": "search.nb201-pc-darts", "darts": "search.nasnet-pc-darts"}

    epoch = 0

    @classmethod
    def cell_options(cls, search: SearchConfig) -> dict[str, Any]:
        return {"partial_channels": search.partial_channels, "edge_normalisation": search.edge_normalisation}

    def start_epoch(self, epoch: int, total_epochs: int) -> None:
        super().start_epoch(epoch, total_epochs)
        self.epoch = epoch

    def search_step(self, inputs, targets, arch_inputs, arch_targets) -> dict[str, Any]:
        if self.epoch < self.config.arch_warmup:
            return self.weight_step(inputs, targets, weights=self.softmax_weights())
        return super().search_step(inputs, targets, arch_inputs, arch_targets)

    def edge_weights(self) -> list[torch.Tensor]:
        """Per op table, each edge's normalised weight ``softmax(beta)`` over its node's edges (ones without
        edge normalisation)."""
        extras = self.supernet.extra_arch_parameters()
        space = self.supernet.space
        if not extras:
            return [torch.ones(edges, dtype=a.dtype, device=a.device) for a, (edges, _) in
                    zip(self.arch_parameters, self.arch_shapes)]
        return [node_softmax(extras[name].detach(), NODE_EDGES[space]) for name in BETA_NAMES[space]]

    def derivation_tables(self) -> list[torch.Tensor]:
        """``softmax(alpha) * softmax(beta)``: the official derivation."""
        return [p * e.unsqueeze(1) for p, e in zip(self.arch_probabilities(), self.edge_weights())]

    def describe_arch(self) -> dict[str, Any]:
        return {**super().describe_arch(),
                "edge_weights": [np.round(e.double().cpu().numpy(), 6).tolist() for e in self.edge_weights()]}

    def select(self, epoch: int) -> dict[str, Any]:
        return {"arch_frozen": float(epoch < self.config.arch_warmup), **super().select(epoch)}
