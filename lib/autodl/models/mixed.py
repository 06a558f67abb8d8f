"""What the search supernets share: the forward's architecture choice, the mixed edge, and the pieces a
relaxation variant replaces (docs/ARCHITECTURE.md, "The supernet protocol").

A search supernet's forward takes ``weights`` (one edges x ops tensor per op table: the weighted sum),
``indices`` (one op index per edge per table: a discrete cell), or both (GDAS: only the selected op runs,
``w[sel] * op_sel(x) + sum_{k != sel} w[k]``), plus keyword *architecture inputs*: the extra architecture
tensors a cell class declares in ``extra_arch_shapes`` (e.g. PC-DARTS's edge-normalisation logits), which
the supernet holds next to its op tables and hands to every search cell.
"""
from __future__ import annotations

from typing import Callable, Mapping, Sequence

import torch
from torch import nn

from ..errors import ConfigError
from .ops import build_op

ARCH_INIT_SCALE = 1e-3  # every architecture tensor starts as 1e-3 * N(0, 1), as the original's alpha


def check_forward_choice(weights: Sequence[torch.Tensor] | None, indices: Sequence[Sequence[int]] | None,
                 shapes: Sequence[tuple[int, int]]) -> None:
    """Validate a forward's architecture choice against the supernet's op tables."""
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


def extra_arch_tensors(cell: nn.Module) -> nn.ParameterDict:
    """The extra architecture tensors a search cell declares (``extra_arch_shapes``: name -> shape; a class
    attribute, or set by the cell's constructor where its options decide), each
    ``1e-3 * N(0, 1)`` like the op tables; empty for the plain cells (no random draw, no state-dict key)."""
    return nn.ParameterDict({name: nn.Parameter(ARCH_INIT_SCALE * torch.randn(shape))
                             for name, shape in getattr(cell, "extra_arch_shapes", {}).items()})


def check_arch_inputs(given: Mapping[str, torch.Tensor], extras: nn.ParameterDict) -> None:
    """The architecture inputs of a forward must be exactly the extra tensors the cells declare."""
    if set(given) != set(extras):
        raise ConfigError(f"this supernet's cells take the architecture inputs {sorted(extras) or 'none'}; "
                          f"got {sorted(given) or 'none'}")


def link_unused(output: torch.Tensor, unused: Sequence[torch.Tensor]) -> torch.Tensor:
    """``output`` plus a zero that depends on every tensor of ``unused``.

    The original's ``none`` op returns ``x * 0``, so every value a sampled cell computes stays in the
    autograd graph and every op that ran gets a gradient (zero where its only way to the loss is
    through ``none``).  The supernets never compute ``none``; this zero gives the values that only
    ``none`` edges read the same link, so which parameters have a gradient, and hence what SGD's
    weight decay and momentum do to them (reference inventory 8.23), is the per-op model's."""
    if not unused or not torch.is_grad_enabled():
        return output
    return output + sum(value.sum() for value in unused) * 0.0


class MixedEdge(nn.Module):
    """Every candidate op of one edge (``none``, where listed, is the zero op, never computed).

    The replaceable unit of a relaxation variant that changes the mixed op (e.g. partial channels):
    a subclass keeps this constructor and forward signature."""

    def __init__(self, C: int, stride: int, track_running_stats: bool, op_names: Sequence[str]) -> None:
        super().__init__()
        self.ops = nn.ModuleList(build_op(name, C, C, stride, False, track_running_stats) for name in op_names)
        self.zero = op_names.index("none") if "none" in op_names else None
        self.stride = stride

    def forward(self, inputs: torch.Tensor, weights: torch.Tensor | None, index: int | None) -> torch.Tensor | None:
        """The edge output, or None when it is exactly zero (``none`` selected)."""
        if index is None:
            terms = [weights[k] * op(inputs) for k, op in enumerate(self.ops) if k != self.zero]
            return sum(terms[1:], terms[0])
        if index == self.zero:
            return None
        output = self.ops[index](inputs)
        return output if weights is None else weights[index] * output


def mixed_node(edges: Sequence[MixedEdge], sources: Sequence[torch.Tensor], first: int,
               weights: torch.Tensor | None, indices: Sequence[int] | None, empty: Callable[[], torch.Tensor],
               scales: torch.Tensor | None = None) -> torch.Tensor:
    """One node of a per-edge search cell: ``sum_j scale_e * edge_e(sources[j])`` over its edges
    ``e = first + j`` (``empty()``, a zero tensor, when every edge is ``none``), plus, in the GDAS form,
    each edge's unselected weights as a constant.  ``scales``: per-edge multipliers of the whole cell
    (edge normalisation, from a variant's architecture inputs) or None."""
    total, constant = None, None
    for j, source in enumerate(sources):
        e = first + j
        index = None if indices is None else indices[e]
        if weights is not None and index is not None:  # GDAS: unselected weights enter as constants
            rest = weights[e].sum() - weights[e, index]
            constant = rest if constant is None else constant + rest
        out = edges[e](source, None if weights is None else weights[e], index)
        if out is not None:
            out = out if scales is None else scales[e] * out
            total = out if total is None else total + out
    if total is None:
        total = empty()
    return total if constant is None else total + constant
