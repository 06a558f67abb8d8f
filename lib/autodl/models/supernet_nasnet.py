"""The DARTS/NASNet-space search supernet (spec 1.5): normal and reduction search cells of 14 mixed edges.

Two architecture tensors (normal, reduce), each 14 x K in the order of its cell type's op list in
the op set (:data:`~autodl.spaces.nasnet.SEARCH_OP_SETS`; ``default``: the 8 ops of
:data:`~autodl.spaces.nasnet.DARTS_SEARCH_OPS` in both, so 14 x 8 twice; ``nasp-12ops``: NASP's 8
normal-cell and 5 reduction-cell ops, so 14 x 8 and 14 x 5), initialised ``1e-3 * N(0, 1)``.  The
forward modes are those of the NB201 supernet (:mod:`autodl.models.supernet_nb201`): ``weights``
(weighted sum, ``none`` skipped since it adds zero), ``indices`` (one op per edge), or both (GDAS:
only the selected op runs).
"""
from __future__ import annotations

from typing import Any, Callable, ClassVar, Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError
from ..spaces.nasnet import SEARCH_OP_SETS, Genotype, derive_genotype, edge_keys, num_edges
from .mixed import MixedEdge, check_arch_inputs, check_forward_choice, extra_arch_tensors, link_unused, mixed_node
from .ops import FactorizedReduce, ReLUConvBN
from .registry import register_model

STEPS, MULTIPLIER, STEM_MULTIPLIER = 4, 4, 3


class NASNetSearchCell(nn.Module):
    """Preprocess the two inputs to C channels, then node i sums one mixed edge (:attr:`Edge`) from each
    earlier state.  A relaxation variant subclasses it: another ``Edge`` class, ``extra_arch_shapes``
    (name -> shape of extra architecture tensors, shared by all cells and passed to ``forward`` by name)
    and :meth:`edge_scales` (per-edge multipliers from them); ``edge_options``: the ``Edge`` class's own
    keyword arguments."""

    Edge: ClassVar[type[MixedEdge]] = MixedEdge
    extra_arch_shapes: ClassVar[dict[str, tuple[int, ...]]] = {}

    def __init__(self, C_prev_prev: int, C_prev: int, C: int, reduction: bool, reduction_prev: bool,
                 track_running_stats: bool, op_names: Sequence[str], **edge_options: Any) -> None:
        super().__init__()
        self.reduction = reduction
        self.preprocess0 = (FactorizedReduce(C_prev_prev, C, 2, False, track_running_stats) if reduction_prev
                            else ReLUConvBN(C_prev_prev, C, 1, 1, 0, 1, False, track_running_stats))
        self.preprocess1 = ReLUConvBN(C_prev, C, 1, 1, 0, 1, False, track_running_stats)
        self.edges = nn.ModuleList(self.Edge(C, 2 if reduction and j < 2 else 1, track_running_stats, op_names,
                                             **edge_options) for i in range(STEPS) for j in range(i + 2))
        self.out_channels = MULTIPLIER * C

    def edge_scales(self, **arch_inputs: torch.Tensor) -> torch.Tensor | None:
        """Per-edge multipliers of the edge outputs (default: none; a variant's edge normalisation)."""
        return None

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, weights: torch.Tensor | None,
                indices: Sequence[int] | None, **arch_inputs: torch.Tensor) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        scales = self.edge_scales(**arch_inputs)
        for i in range(STEPS):
            states.append(mixed_node(self.edges, states, num_edges(i), weights, indices, self._zeros(states[1]),
                                     scales))
        output = torch.cat(states[-MULTIPLIER:], dim=1)
        if indices is None:  # every edge runs an op with an output
            return output
        # every node is in the output; an input state whose edges all select `none` only reaches it through them
        read = {j for i in range(STEPS) for j in range(i + 2)
                if indices[num_edges(i) + j] != self.edges[num_edges(i) + j].zero}
        return link_unused(output, [states[j] for j in (0, 1) if j not in read])

    def _zeros(self, state: torch.Tensor) -> Callable[[], torch.Tensor]:
        """A node whose edges are all ``none``: zeros of a node's shape."""
        batch, channels, height, width = state.shape
        stride = 2 if self.reduction else 1
        return lambda: state.new_zeros(batch, channels, -(-height // stride), -(-width // stride))


class NASNetSuperNet(nn.Module):
    """Stem (3C), N normal cells at C, a reduction to 2C, N-1 normal cells, a reduction to 4C, N-1 normal
    cells, then BN + ReLU, global pooling and a linear classifier (spec 1.5; C=16, N=2 gives 6 cells).
    ``op_lists`` holds the op names of each architecture tensor's columns: (normal cell, reduction cell).
    ``cell``: the search-cell class (a :class:`NASNetSearchCell` subclass for a relaxation variant), built with
    ``cell_options`` as its own keyword arguments after the shared ones."""

    edge_names = tuple(f"{kind} {key}" for kind in ("normal", "reduce") for key in edge_keys(STEPS))
    space = "darts"

    def __init__(self, C: int = 16, N: int = 2, num_classes: int = 10, track_running_stats: bool = False,
                 op_set: str = "default", cell: type[NASNetSearchCell] = NASNetSearchCell,
                 cell_options: Mapping[str, Any] | None = None) -> None:
        super().__init__()
        if C < 1 or N < 1:
            raise ConfigError(f"the NASNet supernet needs C >= 1 and N >= 1, got C={C}, N={N}")
        if op_set not in SEARCH_OP_SETS:
            raise ConfigError(f"unknown op set {op_set!r} for the NASNet supernet; expected one of {', '.join(SEARCH_OP_SETS)}")
        self.C, self.N, self.num_classes, self.op_set = C, N, num_classes, op_set
        self.op_lists = SEARCH_OP_SETS[op_set]
        stem = STEM_MULTIPLIER * C
        self.stem = nn.Sequential(nn.Conv2d(3, stem, 3, padding=1, bias=False), nn.BatchNorm2d(stem))
        layout = [(C, False)] * N + [(2 * C, True)] + [(2 * C, False)] * (N - 1) + [(4 * C, True)] + [(4 * C, False)] * (N - 1)
        cells, C_prev_prev, C_prev, reduction_prev = [], stem, stem, False
        for width, reduction in layout:
            cells.append(cell(C_prev_prev, C_prev, width, reduction, reduction_prev, track_running_stats,
                              self.op_lists[1 if reduction else 0], **dict(cell_options or {})))
            C_prev_prev, C_prev, reduction_prev = C_prev, cells[-1].out_channels, reduction
        self.cells = nn.ModuleList(cells)
        self.lastact = nn.Sequential(nn.BatchNorm2d(C_prev), nn.ReLU(inplace=True))
        self.classifier = nn.Linear(C_prev, num_classes)
        edges = num_edges(STEPS)
        self.arch_normal = nn.Parameter(1e-3 * torch.randn(edges, len(self.op_lists[0])))
        self.arch_reduce = nn.Parameter(1e-3 * torch.randn(edges, len(self.op_lists[1])))
        self.arch_extra = extra_arch_tensors(cells[0])

    def arch_parameters(self) -> list[nn.Parameter]:
        return [self.arch_normal, self.arch_reduce]

    def extra_arch_parameters(self) -> dict[str, nn.Parameter]:
        return dict(self.arch_extra.items())

    def weight_parameters(self) -> list[nn.Parameter]:
        return [p for name, p in self.named_parameters() if not name.startswith("arch_")]

    def forward(self, inputs: torch.Tensor, weights: Sequence[torch.Tensor] | None = None,
                indices: Sequence[Sequence[int]] | None = None,
                **arch_inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        check_forward_choice(weights, indices, [tuple(a.shape) for a in self.arch_parameters()])
        check_arch_inputs(arch_inputs, self.arch_extra)
        s0 = s1 = self.stem(inputs)
        for cell in self.cells:
            k = 1 if cell.reduction else 0
            s0, s1 = s1, cell(s0, s1, None if weights is None else weights[k], None if indices is None else indices[k],
                              **arch_inputs)
        features = F.adaptive_avg_pool2d(self.lastact(s1), 1).flatten(1)
        return features, self.classifier(features)

    def derive(self, probabilities: Sequence[torch.Tensor | np.ndarray]) -> Genotype:
        """The genotype of per-edge op weights (the DARTS rule: two strongest distinct inputs per node)."""
        return derive_genotype(probabilities[0], probabilities[1], self.op_lists[0], STEPS,
                               reduce_op_names=self.op_lists[1])

    def extra_repr(self) -> str:
        return f"C={self.C}, N={self.N}, num_classes={self.num_classes}, op_set={self.op_set}"


register_model("search.nasnet", NASNetSuperNet)
