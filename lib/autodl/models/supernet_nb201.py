"""The NAS-Bench-201 search supernet: every candidate op on every edge, one shared 6 x 5 architecture tensor.

Computation is grouped by the edge's source node instead of one module per op per edge.  All
edges leaving node ``j`` read the same tensor, so its ReLU and its 3 x 3 average pooling are computed
once, and the 1 x 1 and 3 x 3 convolutions of all those edges run as one convolution each, with their
output channels stacked (``[edge 0 | edge 1 | ...]``).  In the weighted-sum mode the op weights of the
two convolutions are folded into the batch normalisation (affine-free BN times ``w`` is BN with
scale ``w``), and ``none`` is not computed at all (its output is zero).  The values are those of the
per-op formulation (spec 1.4) within float rounding; ``exps/bench/supernet_step.py`` checks it.

Forward modes (``weights`` / ``indices`` are lists with one entry per architecture tensor, here one):

- ``weights`` only: softmax-weighted sum over the ops of every edge (DARTS, SETN's joint step);
- ``indices`` only: the given discrete cell, one op per edge (SETN, ENAS, RSPS; a fixed architecture);
- both: the GDAS form, only the selected op of each edge runs:
  ``w[sel] * op_sel(x) + sum_{k != sel} w[k]`` (with straight-through ``w``, every logit gets a gradient).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError
from ..spaces.nb201 import EDGES, NUM_NODES, OP_NAMES, Arch
from .ops import ResNetBasicblock, build_op
from .registry import register_model

NONE, SKIP, CONV1, CONV3, POOL = range(len(OP_NAMES))
_BN_EPS, _BN_MOMENTUM = 1e-5, 0.1


def check_choice(weights: Sequence[torch.Tensor] | None, indices: Sequence[Sequence[int]] | None,
                 shapes: Sequence[tuple[int, int]]) -> None:
    """Validate a forward's architecture choice against the supernet's architecture tensors."""
    if weights is None and indices is None:
        raise ConfigError("a supernet forward needs op weights, op indices or both; pass weights=[...] "
                          "(weighted sum) or indices=[...] (a discrete cell)")
    for name, given in (("weights", weights), ("indices", indices)):
        if given is not None and len(given) != len(shapes):
            raise ConfigError(f"{name} has {len(given)} entries; expected {len(shapes)}, one per architecture tensor")
    for k, shape in enumerate(shapes):
        if weights is not None and tuple(weights[k].shape) != shape:
            raise ConfigError(f"weights[{k}] has shape {tuple(weights[k].shape)}; expected {shape}")
        if indices is not None and (len(indices[k]) != shape[0] or not all(0 <= i < shape[1] for i in indices[k])):
            raise ConfigError(f"indices[{k}] must hold {shape[0]} op indices in 0..{shape[1] - 1}, got {list(indices[k])}")


class SearchCell(nn.Module):
    """One NB201 search cell (C channels in and out, stride 1) with parameters grouped by source node."""

    def __init__(self, C: int, track_running_stats: bool) -> None:
        super().__init__()
        self.C, self.track = C, track_running_stats
        self.out_edges = [[e for e, (_, source) in enumerate(EDGES) if source == j] for j in range(NUM_NODES - 1)]
        self.conv1x1 = nn.ParameterList(nn.Parameter(torch.empty(len(out) * C, C, 1, 1)) for out in self.out_edges)
        self.conv3x3 = nn.ParameterList(nn.Parameter(torch.empty(len(out) * C, C, 3, 3)) for out in self.out_edges)
        for weight in [*self.conv1x1, *self.conv3x3]:
            nn.init.kaiming_uniform_(weight, a=5 ** 0.5)  # nn.Conv2d's default initialisation
        # slot of edge e among its source's out-edges, and the source
        self.slot = {e: out.index(e) for out in self.out_edges for e in out}
        for j, out in enumerate(self.out_edges):
            for kind in ("bn1x1", "bn3x3"):
                if track_running_stats:
                    self.register_buffer(f"{kind}_{j}_mean", torch.zeros(len(out) * C))
                    self.register_buffer(f"{kind}_{j}_var", torch.ones(len(out) * C))
                else:
                    self.register_buffer(f"{kind}_{j}_mean", None)
                    self.register_buffer(f"{kind}_{j}_var", None)

    def _bn(self, inputs: torch.Tensor, kind: str, source: int, channels: slice | None,
            scale: torch.Tensor | None) -> torch.Tensor:
        mean, var = getattr(self, f"{kind}_{source}_mean"), getattr(self, f"{kind}_{source}_var")
        if mean is not None and channels is not None:
            mean, var = mean[channels], var[channels]
        use_batch = self.training or mean is None
        return F.batch_norm(inputs, mean, var, scale, None, use_batch, _BN_MOMENTUM, _BN_EPS)

    def forward(self, inputs: torch.Tensor, weights: torch.Tensor | None = None,
                indices: Sequence[int] | None = None) -> torch.Tensor:
        if indices is None:
            return self._weighted(inputs, weights)
        return self._sampled(inputs, weights, indices)

    def _weighted(self, inputs: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        C = self.C
        nodes = [inputs]
        totals: list[torch.Tensor | None] = [None] * NUM_NODES
        for j in range(NUM_NODES - 1):
            x = nodes[j]
            out = self.out_edges[j]
            relu = torch.relu(x)
            w = weights[out]
            y1 = self._bn(F.conv2d(relu, self.conv1x1[j]), "bn1x1", j, None, w[:, CONV1].repeat_interleave(C))
            y3 = self._bn(F.conv2d(relu, self.conv3x3[j], padding=1), "bn3x3", j, None, w[:, CONV3].repeat_interleave(C))
            pooled = F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)
            for slot, e in enumerate(out):
                to = EDGES[e][0]
                part = slice(slot * C, (slot + 1) * C)
                term = y1[:, part] + y3[:, part] + w[slot, SKIP] * x + w[slot, POOL] * pooled
                totals[to] = term if totals[to] is None else totals[to] + term
            nodes.append(totals[j + 1])
        return nodes[-1]

    def _sampled(self, inputs: torch.Tensor, weights: torch.Tensor | None, indices: Sequence[int]) -> torch.Tensor:
        nodes = [inputs]
        for to in range(1, NUM_NODES):
            total, constant = None, None
            for e, (node, j) in enumerate(EDGES):
                if node != to:
                    continue
                op = indices[e]
                if weights is not None:  # the unselected weights: value 0 (straight-through), gradient 1
                    rest = weights[e].sum() - weights[e, op]
                    constant = rest if constant is None else constant + rest
                if op == NONE:
                    continue
                term = self._op(nodes[j], op, j, e, None if weights is None else weights[e, op])
                total = term if total is None else total + term
            if total is None:
                total = torch.zeros_like(inputs)
            nodes.append(total if constant is None else total + constant)
        return nodes[-1]

    def _op(self, x: torch.Tensor, op: int, source: int, edge: int, weight: torch.Tensor | None) -> torch.Tensor:
        if op == SKIP:
            return x if weight is None else weight * x
        if op == POOL:
            pooled = F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)
            return pooled if weight is None else weight * pooled
        part = slice(self.slot[edge] * self.C, (self.slot[edge] + 1) * self.C)
        kind, params, padding = ("bn1x1", self.conv1x1, 0) if op == CONV1 else ("bn3x3", self.conv3x3, 1)
        scale = None if weight is None else weight.expand(self.C)
        return self._bn(F.conv2d(torch.relu(x), params[source][part], padding=padding), kind, source, part, scale)

    def extra_repr(self) -> str:
        return f"C={self.C}, track_running_stats={self.track}"


class NB201SuperNet(nn.Module):
    """Stem, 3 stages of N search cells with ResNet reductions, head; ``arch_parameters`` is one 6 x 5 tensor
    (initialised ``1e-3 * N(0, 1)``) shared by every cell.  ``forward`` returns ``(features, logits)``."""

    op_names = OP_NAMES
    edge_names = tuple(f"{to}<-{source}" for to, source in EDGES)
    space = "nas-bench-201"

    def __init__(self, C: int = 16, N: int = 5, num_classes: int = 10, track_running_stats: bool = False) -> None:
        super().__init__()
        if C < 1 or N < 1:
            raise ConfigError(f"the NB201 supernet needs C >= 1 and N >= 1, got C={C}, N={N}")
        self.C, self.N, self.num_classes = C, N, num_classes
        self.stem = nn.Sequential(nn.Conv2d(3, C, 3, padding=1, bias=False), nn.BatchNorm2d(C))
        widths = [C] * N + [2 * C] + [2 * C] * N + [4 * C] + [4 * C] * N
        reductions = [False] * N + [True] + [False] * N + [True] + [False] * N
        cells, previous = [], C
        for width, reduction in zip(widths, reductions):
            cells.append(ResNetBasicblock(previous, width, 2, True, True) if reduction
                         else SearchCell(width, track_running_stats))
            previous = width
        self.cells = nn.ModuleList(cells)
        self.lastact = nn.Sequential(nn.BatchNorm2d(previous), nn.ReLU(inplace=True))
        self.classifier = nn.Linear(previous, num_classes)
        self.arch = nn.Parameter(1e-3 * torch.randn(len(EDGES), len(OP_NAMES)))

    def arch_parameters(self) -> list[nn.Parameter]:
        return [self.arch]

    def weight_parameters(self) -> list[nn.Parameter]:
        return [p for name, p in self.named_parameters() if name != "arch"]

    def forward(self, inputs: torch.Tensor, weights: Sequence[torch.Tensor] | None = None,
                indices: Sequence[Sequence[int]] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        check_choice(weights, indices, [tuple(self.arch.shape)])
        cell_weights = None if weights is None else weights[0]
        cell_indices = None if indices is None else indices[0]
        features = self.stem(inputs)
        for cell in self.cells:
            if isinstance(cell, (SearchCell, PerOpSearchCell)):
                features = cell(features, cell_weights, cell_indices)
            else:
                features = cell(features)
        features = F.adaptive_avg_pool2d(self.lastact(features), 1).flatten(1)
        return features, self.classifier(features)

    @staticmethod
    def derive(probabilities: Sequence[torch.Tensor | np.ndarray]) -> Arch:
        """The per-edge arg-max op (``none`` included, as the NB201 searches derive it)."""
        weights = probabilities[0]
        return Arch.from_weights(weights.detach().cpu().numpy() if isinstance(weights, torch.Tensor) else weights)

    def extra_repr(self) -> str:
        return f"C={self.C}, N={self.N}, num_classes={self.num_classes}"


@register_model("search.nb201")
def search_nb201(C: int = 16, N: int = 5, num_classes: int = 10, track_running_stats: bool = False) -> NB201SuperNet:
    """The NB201 search supernet (C, N, 4 nodes)."""
    return NB201SuperNet(C, N, num_classes, track_running_stats)


class PerOpSearchCell(nn.Module):
    """The straightforward formulation the original uses: one module per op per edge and the weighted sum
    ``sum_k w_k * op_k(x)`` over all five ops (or the selected op only).  Kept as the reference that the
    grouped :class:`SearchCell` is checked and benchmarked against."""

    def __init__(self, cell: SearchCell) -> None:
        super().__init__()
        C, track = cell.C, cell.track
        self.edges = nn.ModuleList()
        for e, (_, j) in enumerate(EDGES):
            ops = nn.ModuleList(build_op(name, C, C, 1, False, track) for name in OP_NAMES)
            part = slice(cell.slot[e] * C, (cell.slot[e] + 1) * C)
            with torch.no_grad():
                ops[CONV1].op[1].weight.copy_(cell.conv1x1[j][part])
                ops[CONV3].op[1].weight.copy_(cell.conv3x3[j][part])
            self.edges.append(ops)

    def forward(self, inputs: torch.Tensor, weights: torch.Tensor | None = None,
                indices: Sequence[int] | None = None) -> torch.Tensor:
        nodes = [inputs]
        for to in range(1, NUM_NODES):
            terms = []
            for e, (node, j) in enumerate(EDGES):
                if node != to:
                    continue
                ops = self.edges[e]
                if indices is None:
                    terms.append(sum(weights[e, k] * op(nodes[j]) for k, op in enumerate(ops)))
                elif weights is None:
                    terms.append(ops[indices[e]](nodes[j]))
                else:
                    terms.append(sum(weights[e, k] * op(nodes[j]) if k == indices[e] else weights[e, k]
                                     for k, op in enumerate(ops)))
            nodes.append(sum(terms))
        return nodes[-1]


def per_op_copy(supernet: NB201SuperNet) -> NB201SuperNet:
    """A copy of ``supernet`` whose search cells are :class:`PerOpSearchCell` with the same weights."""
    import copy

    reference = copy.deepcopy(supernet)
    for k, cell in enumerate(supernet.cells):
        if isinstance(cell, SearchCell):
            reference.cells[k] = PerOpSearchCell(cell)
    return reference
