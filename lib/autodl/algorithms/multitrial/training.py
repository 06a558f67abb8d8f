"""The training evaluator: really train a candidate network for a budget of epochs through the engine."""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from ...config import OptimConfig
from ...spaces.nb201 import Arch
from .evaluators import Evaluation, Evaluator
from .space import NB201Space


class TrainingEvaluator(Evaluator):
    """Trains an NB201 cell's network (``C``, ``N``) with :func:`~autodl.hpo.recipe.train_recipe` (the engine's
    Trainer) on the training part of ``dataset`` for ``budget`` epochs (BOHB's budget; ``recipe.epochs``
    otherwise); score = the last epoch's top-1 accuracy on the held-out validation part (never the test set:
    digits uses its fixed 1,077/360 split, cifar10 its 25k/25k halves), cost = the wall seconds of the
    training.  Every trial is a run directory ``<save_dir>/trial-<n>``, so a trial interrupted by a kill
    resumes from its last epoch."""

    parallel = True
    multi_fidelity = True

    def __init__(self, dataset: str, save_dir: str | os.PathLike, recipe: OptimConfig,
                 data_path: str | None = None, seed: int = 0, channel: int = 16, num_cells: int = 5,
                 device: str = "cpu") -> None:
        self.dataset, self.save_dir, self.recipe, self.data_path = dataset, Path(save_dir), recipe, data_path
        self.seed, self.channel, self.num_cells, self.device = seed, channel, num_cells, device
        self.space = NB201Space()

    def evaluate(self, candidate: Arch, budget: float | None, trial: int) -> Evaluation:
        from ...hpo.recipe import score_recipe  # imported here: the HPO package builds on this one

        epochs = self.recipe.epochs if budget is None else max(1, int(round(budget)))
        # one thread in every process: a trial scores the same in or out of a worker
        return score_recipe({"name": "infer.tiny", "C": self.channel, "N": self.num_cells, "arch_str": str(candidate)},
                            dataclasses.replace(self.recipe, epochs=epochs), self.dataset,
                            self.save_dir / f"trial-{trial}", data_path=self.data_path,
                            seed=self.seed * 100003 + trial, device=self.device, threads=1)

    def describe(self) -> dict[str, Any]:
        return {"kind": "training", "dataset": self.dataset, "recipe": dataclasses.asdict(self.recipe),
                "seed": self.seed, "channel": self.channel, "num_cells": self.num_cells, "device": self.device}
