"""Random search with parameter sharing (RSPS, Li & Talwalkar, UAI 2019; "RANDOM-NAS", spec 2.6).

Each step trains the supernet weights under a uniformly random cell (every edge's op uniform over
all ops).  After every epoch: a valid pass with a new random cell per batch, then ``select_num``
random cells each scored on one valid batch, the best kept; the same selection runs once more
after training and its cell is the answer.  There are no architecture parameters.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from ...config import SearchConfig, setting
from ..registry import register_algorithm
from .base import SearchTask, prefixed


@dataclass(frozen=True)
class RSPSSettings(SearchConfig):
    select_num: int = setting(100, "RSPS: random cells scored per selection", count=True)


@register_algorithm("rsps", recipe="RANDOM")
class RSPS(SearchTask):
    """Random NAS with parameter sharing."""

    Settings = RSPSSettings

    uses_arch_parameters = False

    def search_step(self, inputs, targets, arch_inputs, arch_targets) -> dict[str, Any]:
        return self.weight_step(inputs, targets, indices=self.sample_uniform())

    def arch_probabilities(self) -> list[torch.Tensor]:
        return [torch.full(shape, 1.0 / shape[1]) for shape in self.arch_shapes]

    def select_random(self) -> None:
        best, _ = self.best_of([self.sample_uniform() for _ in range(self.config.select_num)])
        self.selected = self.arch_of(best)

    def select(self, epoch: int) -> dict[str, Any]:
        metrics = prefixed("valid_", self.evaluate(self.loaders.valid, sampler=self.sample_uniform))
        self.select_random()
        return metrics

    def final_arch(self):
        self.select_random()
        return self.selected
