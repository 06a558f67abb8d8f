"""DARTS- (Chu et al., ICLR 2021): first-order DARTS with an auxiliary skip connection on every edge.

Each mixed edge computes ``beta_aux * skip(x) + sum_k softmax(alpha)_k o_k(x)``.  The auxiliary skip is not an
op of the alpha table (the derived cell never contains it); it is the space's own ``skip_connect`` with its own
module: the identity on stride-1 edges, a ``FactorizedReduce`` (no affine BN) on the stride-2 edges of the
DARTS space's reduction cells, as the official code (Meituan-AutoML/DARTS-, ``MixedOp``) builds it.  The
coefficient falls linearly per epoch from ``aux_skip_start`` (1) to exactly 0 in the last epoch:
``beta_e = beta_0 (E - 1 - e) / (E - 1)`` (a 1-epoch run keeps ``beta_0``).  At 0 the auxiliary skip is not
computed, so the last epoch is a DARTS-V1 epoch.  Steps and derivation are DARTS-V1's.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Sequence

import torch

from ...config import setting
from ...errors import ConfigError
from ...models import register_model
from ...models.mixed import MixedEdge
from ...models.ops import build_op
from ...models.supernet_nasnet import NASNetSearchCell, NASNetSuperNet
from ...models.supernet_nb201 import EdgeCell, NB201SuperNet
from ..registry import register_algorithm
from .darts import DARTS, DARTSSettings


class AuxSkipEdge(MixedEdge):
    """Every candidate op of one edge plus ``aux_scale`` times an auxiliary ``skip_connect`` of its own; the
    task sets ``aux_scale`` every epoch (a plain float: recomputed from the epoch, so nothing to checkpoint)."""

    def __init__(self, C: int, stride: int, track_running_stats: bool, op_names: Sequence[str]) -> None:
        super().__init__(C, stride, track_running_stats, op_names)
        self.aux = build_op("skip_connect", C, C, stride, False, track_running_stats)
        self.aux_scale = 1.0

    def forward(self, inputs: torch.Tensor, weights: torch.Tensor | None, index: int | None) -> torch.Tensor | None:
        output = super().forward(inputs, weights, index)
        if self.aux_scale == 0:
            return output
        skip = self.aux_scale * self.aux(inputs)
        return skip if output is None else output + skip


class AuxSkipNB201Cell(EdgeCell):
    Edge = AuxSkipEdge


class AuxSkipNASNetCell(NASNetSearchCell):
    Edge = AuxSkipEdge


register_model("search.nb201-aux-skip", functools.partial(NB201SuperNet, cell=AuxSkipNB201Cell))
register_model("search.nasnet-aux-skip", functools.partial(NASNetSuperNet, cell=AuxSkipNASNetCell))


@dataclass(frozen=True)
class DARTSMinusSettings(DARTSSettings):
    aux_skip_start: float = setting(1.0, "DARTS-: coefficient of the auxiliary skip connection in the first epoch "
                                         "(linear to 0 in the last)")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.aux_skip_start < 0:
            raise ConfigError(f"aux_skip_start must be >= 0 (the auxiliary skip's first coefficient), "
                              f"got {self.aux_skip_start}")


def aux_coefficient(epoch: int, total_epochs: int, start: float) -> float:
    """``start (E - 1 - e) / (E - 1)``: ``start`` in the first epoch, exactly 0 in the last (``start`` if E = 1)."""
    if total_epochs <= 1:
        return start
    return start * (total_epochs - 1 - epoch) / (total_epochs - 1)


@register_algorithm("darts-minus", recipe="DARTS-MINUS", title="DARTS-", order=1)
class DARTSMinus(DARTS):
    """First-order DARTS on supernets whose edges carry a decaying auxiliary skip connection."""

    Settings = DARTSMinusSettings
    supernets = {"nas-bench-201": "search.nb201-aux-skip", "darts": "search.nasnet-aux-skip"}

    aux_scale = 1.0

    def start_epoch(self, epoch: int, total_epochs: int) -> None:
        super().start_epoch(epoch, total_epochs)
        self.aux_scale = aux_coefficient(epoch, total_epochs, self.config.aux_skip_start)
        for module in self.supernet.modules():
            if isinstance(module, AuxSkipEdge):
                module.aux_scale = self.aux_scale

    def select(self, epoch: int) -> dict[str, Any]:
        return {"aux_skip": self.aux_scale, **super().select(epoch)}
