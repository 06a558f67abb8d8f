"""The NAS-Bench-201 search supernet: every candidate op on every edge, one shared 6 x 5 architecture tensor.

Computation is grouped by the edge's source node instead of one module per op per edge.  All
edges leaving node ``j`` read the same tensor, so its ReLU and its 3 x 3 average pooling are computed
once, and the 1 x 1 and 3 x 3 convolutions of all those edges run as one convolution each, with their
output channels stacked (``[edge 0 | edge 1 | ...]``).  In the weighted-sum mode the op weights of the
two convolutions are folded into the batch normalisation (affine-free BN times ``w`` is BN with
scale ``w``), and ``none`` is not computed at all (its output is zero).  In the sampled modes only the
selected ops run: the selected edge's slice of the stacked weights, one ReLU and one pooling per source
at most, the selected weight folded into the BN scale, each node's constant (the unselected weights)
computed once, and every node's terms summed into one new tensor.  On the CPU the cells compute in
channels-last (NHWC) memory layout: oneDNN's convolutions and the 3 x 3 average pooling (forward and
backward) are up to several times faster there at these shapes.  The values are those of the per-op
formulation (spec 1.4, :class:`PerOpSearchCell`) within float rounding; ``tests/test_supernet_nb201.py``
and ``exps/bench/supernet_step.py`` check it.

Forward modes (``weights`` / ``indices`` are lists with one entry per architecture tensor, here one):

- ``weights`` only: softmax-weighted sum over the ops of every edge (DARTS, SETN's joint step);
- ``indices`` only: the given discrete cell, one op per edge (SETN, ENAS, RSPS; a fixed architecture);
- both: the GDAS form, only the selected op of each edge runs:
  ``w[sel] * op_sel(x) + sum_{k != sel} w[k]`` (with straight-through ``w``, every logit gets a gradient).
"""
from __future__ import annotations

import copy
from typing import Any, ClassVar, Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError
from ..spaces.nb201 import EDGES, NUM_NODES, OP_NAMES, Arch
from .nb201 import nb201_cells
from .mixed import MixedEdge, check_arch_inputs, check_forward_choice, extra_arch_tensors, link_unused, mixed_node
from .ops import build_op
from .registry import register_model

NONE, SKIP, CONV1, CONV3, POOL = range(len(OP_NAMES))
_BN_EPS, _BN_MOMENTUM = 1e-5, 0.1


class SearchCell(nn.Module):
    """One NB201 search cell (C channels in and out, stride 1) with parameters grouped by source node."""

    extra_arch_shapes: ClassVar[dict[str, tuple[int, ...]]] = {}

    def __init__(self, C: int, track_running_stats: bool) -> None:
        super().__init__()
        self.C, self.track = C, track_running_stats
        self.out_edges = [[e for e, (_, source) in enumerate(EDGES) if source == j] for j in range(NUM_NODES - 1)]
        # one Parameter per edge and conv kind, so an op that did not run gets no gradient (see the module doc)
        self.conv1x1 = nn.ParameterList(nn.Parameter(torch.empty(C, C, 1, 1)) for _ in EDGES)
        self.conv3x3 = nn.ParameterList(nn.Parameter(torch.empty(C, C, 3, 3)) for _ in EDGES)
        for params in (self.conv1x1, self.conv3x3):
            for out in self.out_edges:
                for e in out:
                    nn.init.kaiming_uniform_(params[e], a=5 ** 0.5)  # nn.Conv2d's default initialisation
        # slot of edge e among its source's out-edges (its channels in the source's stacked convolution)
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
        """Affine-free BN (times ``scale``) of the ``channels`` (all when None) of the stacked ``kind``
        convolution of ``source``; their running statistics are views, updated in place."""
        mean, var = getattr(self, f"{kind}_{source}_mean"), getattr(self, f"{kind}_{source}_var")
        if mean is not None and channels is not None:
            mean, var = mean[channels], var[channels]
        use_batch = self.training or mean is None
        return F.batch_norm(inputs, mean, var, scale, None, use_batch, _BN_MOMENTUM, _BN_EPS)

    def forward(self, inputs: torch.Tensor, weights: torch.Tensor | None = None,
                indices: Sequence[int] | None = None) -> torch.Tensor:
        if inputs.device.type == "cpu":  # oneDNN's convolutions and the pooling are faster in NHWC here
            inputs = inputs.contiguous(memory_format=torch.channels_last)
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
            y1 = self._bn(F.conv2d(relu, self._stacked(self.conv1x1, out)), "bn1x1", j, None,
                          w[:, CONV1].repeat_interleave(C))
            y3 = self._bn(F.conv2d(relu, self._stacked(self.conv3x3, out), padding=1), "bn3x3", j, None,
                          w[:, CONV3].repeat_interleave(C))
            pooled = F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)
            parts1, parts3 = y1.split(C, dim=1), y3.split(C, dim=1)
            for slot, e in enumerate(out):
                to = EDGES[e][0]
                if totals[to] is None:  # a new tensor, so the further terms are added in place
                    totals[to] = parts1[slot] + parts3[slot]
                else:
                    totals[to].add_(parts1[slot]).add_(parts3[slot])
                totals[to].addcmul_(x, w[slot, SKIP]).addcmul_(pooled, w[slot, POOL])
            nodes.append(totals[j + 1])
        return nodes[-1]

    def _sampled(self, inputs: torch.Tensor, weights: torch.Tensor | None, indices: Sequence[int]) -> torch.Tensor:
        C = self.C
        nodes = [inputs]
        # node -> [sum, owned]: owned sums are new tensors that later terms are added to in place
        totals: list[list | None] = [None] * NUM_NODES
        selected = constants = None
        if weights is not None:
            # the selected weight of every edge, and per node the sum of its edges' other weights
            # (value 0 for straight-through one-hot weights, gradient 1)
            selected = weights.gather(1, torch.tensor(indices, device=weights.device).unsqueeze(1)).squeeze(1)
            rest = weights.sum(dim=1) - selected
            constants = [None] + [rest[[e for e, (to, _) in enumerate(EDGES) if to == node]].sum()
                                  for node in range(1, NUM_NODES)]

        def add(node: int, term: torch.Tensor, owned: bool, scale: torch.Tensor | None = None) -> None:
            entry = totals[node]
            if entry is None:
                totals[node] = [term, owned] if scale is None else [term * scale, True]
            elif not entry[1]:
                totals[node] = [entry[0] + term if scale is None else torch.addcmul(entry[0], term, scale), True]
            elif scale is None:
                entry[0].add_(term)
            else:
                entry[0].addcmul_(term, scale)

        for j in range(NUM_NODES - 1):
            if j > 0:
                nodes.append(self._node(totals[j], inputs, None if constants is None else constants[j]))
            x = nodes[j]
            out = self.out_edges[j]
            ops = [indices[e] for e in out]
            relu = torch.relu(x) if CONV1 in ops or CONV3 in ops else None
            for slot, (e, op) in enumerate(zip(out, ops)):
                if op not in (CONV1, CONV3):
                    continue
                part = slice(slot * C, (slot + 1) * C)
                params, kind, padding = (self.conv1x1, "bn1x1", 0) if op == CONV1 else (self.conv3x3, "bn3x3", 1)
                # a contiguous scale: CPU batch-norm backward in NHWC is wrong with an expanded one (torch 2.x)
                scale = None if selected is None else selected[e].repeat(C)
                add(EDGES[e][0], self._bn(F.conv2d(relu, params[e], padding=padding), kind, j, part, scale), True)
            pooled = F.avg_pool2d(x, 3, 1, 1, count_include_pad=False) if POOL in ops else None
            for e, op in zip(out, ops):
                if op in (SKIP, POOL):
                    add(EDGES[e][0], x if op == SKIP else pooled, False, None if selected is None else selected[e])
        output = self._node(totals[NUM_NODES - 1], inputs, None if constants is None else constants[NUM_NODES - 1])
        return link_unused(output, [nodes[j] for j in disconnected(indices)])

    @staticmethod
    def _stacked(params: nn.ParameterList, edges: Sequence[int]) -> torch.Tensor:
        """The convolution weights of ``edges`` stacked along the output channels (one convolution for all)."""
        return params[edges[0]] if len(edges) == 1 else torch.cat([params[e] for e in edges])

    @staticmethod
    def _node(entry: list | None, inputs: torch.Tensor, constant: torch.Tensor | None) -> torch.Tensor:
        """A node's value: its sum (zeros if every edge into it is ``none``) plus its constant."""
        if entry is None:
            total = torch.zeros_like(inputs)
            return total if constant is None else total + constant
        total, owned = entry
        if constant is None:
            return total
        return total.add_(constant) if owned else total + constant

    def extra_repr(self) -> str:
        return f"C={self.C}, track_running_stats={self.track}"


def disconnected(indices: Sequence[int]) -> list[int]:
    """The nodes before the last from which no path of ops other than ``none`` reaches the output."""
    reaching = {NUM_NODES - 1}
    for j in reversed(range(NUM_NODES - 1)):
        if any(indices[e] != NONE and to in reaching for e, (to, source) in enumerate(EDGES) if source == j):
            reaching.add(j)
    return [j for j in range(NUM_NODES - 1) if j not in reaching]


class EdgeCell(nn.Module):
    """An NB201 search cell of one mixed edge (:attr:`Edge`) per edge, node ``i`` summing its edges from
    nodes ``0..i-1``: the cell a relaxation variant that changes the mixed op subclasses (another
    ``Edge``, ``extra_arch_shapes`` and :meth:`edge_scales`, as :class:`~autodl.models.supernet_nasnet.
    NASNetSearchCell`; ``edge_options``: the ``Edge`` class's own keyword arguments).  It computes what
    :class:`SearchCell` computes (tested), one module per op, so without the fused cell's speed."""

    Edge: ClassVar[type[MixedEdge]] = MixedEdge
    extra_arch_shapes: ClassVar[dict[str, tuple[int, ...]]] = {}

    def __init__(self, C: int, track_running_stats: bool, **edge_options: Any) -> None:
        super().__init__()
        self.C, self.track = C, track_running_stats
        self.edges = nn.ModuleList(self.Edge(C, 1, track_running_stats, OP_NAMES, **edge_options) for _ in EDGES)

    def edge_scales(self, **arch_inputs: torch.Tensor) -> torch.Tensor | None:
        """Per-edge multipliers of the edge outputs (default: none; a variant's edge normalisation)."""
        return None

    def forward(self, inputs: torch.Tensor, weights: torch.Tensor | None = None,
                indices: Sequence[int] | None = None, **arch_inputs: torch.Tensor) -> torch.Tensor:
        scales = self.edge_scales(**arch_inputs)
        nodes = [inputs]
        for to in range(1, NUM_NODES):
            nodes.append(mixed_node(self.edges, nodes, to * (to - 1) // 2, weights, indices,
                                    lambda: torch.zeros_like(inputs), scales))
        if indices is None:
            return nodes[-1]
        return link_unused(nodes[-1], [nodes[j] for j in disconnected(indices)])

    def extra_repr(self) -> str:
        return f"C={self.C}, track_running_stats={self.track}"


class NB201SuperNet(nn.Module):
    """Stem, 3 stages of N search cells with ResNet reductions, head; ``arch_parameters`` is one 6 x 5 tensor
    (initialised ``1e-3 * N(0, 1)``) shared by every cell, whose columns ``op_lists[0]`` names.
    ``cell``: the search-cell class, built as ``cell(C, track_running_stats, **cell_options)`` (default the
    fused :class:`SearchCell`; an :class:`EdgeCell` subclass for a relaxation variant, ``cell_options`` its
    own keyword arguments, e.g. PC-DARTS's K); the extra architecture tensors its cells declare are held
    here and passed to every search cell by name.
    ``forward`` returns ``(features, logits)``."""

    op_lists = (OP_NAMES,)
    edge_names = tuple(f"{to}<-{source}" for to, source in EDGES)
    space = "nas-bench-201"

    def __init__(self, C: int = 16, N: int = 5, num_classes: int = 10, track_running_stats: bool = False,
                 cell: type[nn.Module] = SearchCell, cell_options: Mapping[str, Any] | None = None) -> None:
        super().__init__()
        if C < 1 or N < 1:
            raise ConfigError(f"the NB201 supernet needs C >= 1 and N >= 1, got C={C}, N={N}")
        options = dict(cell_options or {})
        self.C, self.N, self.num_classes = C, N, num_classes
        self.stem = nn.Sequential(nn.Conv2d(3, C, 3, padding=1, bias=False), nn.BatchNorm2d(C))
        self.cells = nb201_cells(C, N, lambda width: cell(width, track_running_stats, **options))
        self.search_cells = frozenset(k for k, module in enumerate(self.cells) if isinstance(module, cell))
        self.lastact = nn.Sequential(nn.BatchNorm2d(4 * C), nn.ReLU(inplace=True))
        self.classifier = nn.Linear(4 * C, num_classes)
        self.arch = nn.Parameter(1e-3 * torch.randn(len(EDGES), len(OP_NAMES)))
        self.arch_extra = extra_arch_tensors(self.cells[min(self.search_cells)])

    def arch_parameters(self) -> list[nn.Parameter]:
        return [self.arch]

    def extra_arch_parameters(self) -> dict[str, nn.Parameter]:
        return dict(self.arch_extra.items())

    def weight_parameters(self) -> list[nn.Parameter]:
        return [p for name, p in self.named_parameters() if not name.startswith("arch")]

    def forward(self, inputs: torch.Tensor, weights: Sequence[torch.Tensor] | None = None,
                indices: Sequence[Sequence[int]] | None = None,
                **arch_inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        check_forward_choice(weights, indices, [tuple(self.arch.shape)])
        check_arch_inputs(arch_inputs, self.arch_extra)
        cell_weights = None if weights is None else weights[0]
        cell_indices = None if indices is None else indices[0]
        features = self.stem(inputs)
        for k, cell in enumerate(self.cells):
            if k in self.search_cells:
                features = cell(features, cell_weights, cell_indices, **arch_inputs)
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


register_model("search.nb201", NB201SuperNet)


class PerOpSearchCell(nn.Module):
    """The straightforward formulation the original uses: one module per op per edge and the weighted sum
    ``sum_k w_k * op_k(x)`` over all five ops (or the selected op only).  Kept as the reference that the
    grouped :class:`SearchCell` is checked and benchmarked against."""

    def __init__(self, cell: SearchCell) -> None:
        super().__init__()
        C, track = cell.C, cell.track
        self.edges = nn.ModuleList()
        for e in range(len(EDGES)):
            ops = nn.ModuleList(build_op(name, C, C, 1, False, track) for name in OP_NAMES)
            with torch.no_grad():
                ops[CONV1].op[1].weight.copy_(cell.conv1x1[e])
                ops[CONV3].op[1].weight.copy_(cell.conv3x3[e])
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


def per_op_names(supernet: NB201SuperNet) -> dict[str, str]:
    """Every parameter name of ``supernet`` -> the same parameter's name in :func:`per_op_copy` of it."""
    names = {name: name for name, _ in supernet.named_parameters()}
    for k in supernet.search_cells:
        for e in range(len(EDGES)):
            names[f"cells.{k}.conv1x1.{e}"] = f"cells.{k}.edges.{e}.{CONV1}.op.1.weight"
            names[f"cells.{k}.conv3x3.{e}"] = f"cells.{k}.edges.{e}.{CONV3}.op.1.weight"
    return names


def per_op_copy(supernet: NB201SuperNet) -> NB201SuperNet:
    """A copy of ``supernet`` whose search cells are :class:`PerOpSearchCell` with the same weights (and dtype)."""
    reference = copy.deepcopy(supernet)
    for k in supernet.search_cells:
        cell = supernet.cells[k]
        reference.cells[k] = PerOpSearchCell(cell).to(cell.conv3x3[0].dtype)
    return reference
