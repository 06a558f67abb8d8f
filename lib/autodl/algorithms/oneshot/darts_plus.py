"""DARTS+ (Liang et al., 2019): DARTS with early stopping, first order (``darts+-v1``) or second (``darts+``).

The search ends after the first epoch at whose end either criterion holds:

1. **skip connections**: the derived normal cell (the NB201 cell on that space) holds
   ``stop_skip_limit`` (2) or more ``skip_connect`` ops — the sign that DARTS starts collapsing;
2. **stable ranking**: the ranking of the architecture parameters of the learnable (convolution) ops
   on every edge has not changed for ``stop_rank_patience`` (10) epochs in a row.

Otherwise it runs the recipe's epochs like DARTS.  The stop epoch and its reason are in the metrics,
the checkpoint (a resumed finished search does not train on) and the result artifact.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import torch

from ...config import setting
from ...spaces.nasnet import Genotype
from ...spaces.nb201 import Arch
from ..registry import register_algorithm
from .darts import DARTS, DARTSSettings


@dataclass(frozen=True)
class DARTSPlusSettings(DARTSSettings):
    stop_skip_limit: int = setting(2, "DARTS+: stop once the derived normal cell holds this many skip_connect ops",
                                   count=True)
    stop_rank_patience: int = setting(10, "DARTS+: stop once the conv ops' ranking held this many epochs", count=True)


def learnable_ranking(alphas: Sequence[torch.Tensor], op_lists: Sequence[Sequence[str]]) -> list[list[list[int]]]:
    """Per architecture tensor and edge, the learnable (convolution) ops ordered by decreasing parameter;
    ``op_lists[t]`` names the columns of ``alphas[t]``."""
    rankings = []
    for alpha, op_names in zip(alphas, op_lists):
        columns = [k for k, name in enumerate(op_names) if "conv" in name]
        order = torch.argsort(alpha.detach()[:, columns], dim=1, descending=True, stable=True).tolist()
        rankings.append([[columns[k] for k in row] for row in order])
    return rankings


def skip_count(arch: Arch | Genotype) -> int:
    """``skip_connect`` ops in the normal cell of a genotype, or in an NB201 cell."""
    if isinstance(arch, Genotype):
        return sum(op == "skip_connect" for node in arch.normal for op, _ in node)
    return list(arch.to_ops()).count("skip_connect")


class EarlyStopping:
    """The two DARTS+ criteria, fed once per epoch with the derived architecture and the parameters."""

    def __init__(self, skip_limit: int, rank_patience: int) -> None:
        self.skip_limit, self.rank_patience = skip_limit, rank_patience
        self.ranking: list | None = None
        self.stable_epochs = 0
        self.stopped: tuple[int, str] | None = None

    def update(self, epoch: int, arch: Arch | Genotype, ranking: list) -> str | None:
        """Record epoch ``epoch``; returns the stop reason when a criterion holds (and from then on)."""
        if self.stopped is not None:
            return self.stopped[1]
        self.stable_epochs = self.stable_epochs + 1 if ranking == self.ranking else 0
        self.ranking = ranking
        skips = skip_count(arch)
        reason = None
        if skips >= self.skip_limit:
            reason = f"the derived cell holds {skips} skip connections (limit {self.skip_limit})"
        elif self.stable_epochs >= self.rank_patience:
            reason = f"the ranking of the learnable ops' parameters was stable for {self.stable_epochs} epochs"
        if reason is not None:
            self.stopped = (epoch, reason)
        return reason

    def state_dict(self) -> dict[str, Any]:
        return {"ranking": self.ranking, "stable_epochs": self.stable_epochs,
                "stopped": None if self.stopped is None else list(self.stopped)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.ranking, self.stable_epochs = state["ranking"], state["stable_epochs"]
        self.stopped = None if state["stopped"] is None else (int(state["stopped"][0]), str(state["stopped"][1]))


@register_algorithm("darts+-v1", recipe="DARTS+", title="DARTS+(V1)", order=1)
@register_algorithm("darts+", recipe="DARTS+", order=2)
class DARTSPlus(DARTS):
    """DARTS (``config.order`` 1 or 2) that stops early by the DARTS+ criteria."""

    Settings = DARTSPlusSettings

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stopping = EarlyStopping(self.config.stop_skip_limit, self.config.stop_rank_patience)

    def end_epoch(self, epoch: int, total_epochs: int) -> dict[str, Any]:
        record = super().end_epoch(epoch, total_epochs)
        ranking = learnable_ranking(self.arch_parameters, self.supernet.op_lists)
        reason = self.stopping.update(epoch, self.current_arch(), ranking)
        record["rank_stable_epochs"] = self.stopping.stable_epochs
        if reason is not None:
            record["stop_reason"] = reason
        return record

    def stop_reason(self) -> str | None:
        return None if self.stopping.stopped is None else self.stopping.stopped[1]

    def result_extra(self) -> dict[str, Any]:
        if self.stopping.stopped is None:
            return {"stop_epoch": None, "stop_reason": None}
        epoch, reason = self.stopping.stopped
        return {"stop_epoch": epoch, "stop_reason": reason}

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "early_stopping": self.stopping.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.stopping.load_state_dict(state["early_stopping"])
