"""The training evaluator of NB201 cells: a trial trains the cell's network with
:func:`autodl.engine.trial.score_recipe` (the trial function the recipe search of :mod:`autodl.hpo.recipe`
shares) and scores it on the held-out validation part."""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from ...config import OptimConfig, load_config
from ...engine.trial import score_recipe
from ...data import DATASETS
from ...errors import ConfigError, require_one_of
from ...spaces.nb201 import Arch
from .evaluators import Evaluation, Evaluator
from .settings import SearchSettings
from .space import NB201Space


class TrainingEvaluator(Evaluator):
    """Trains an NB201 cell's network (``C``, ``N``) with :func:`~autodl.engine.trial.train_recipe` (the engine's Trainer) on the
    training part of ``dataset`` for ``budget`` epochs (BOHB's budget; ``recipe.epochs`` otherwise); score =
    the last epoch's top-1 accuracy on the held-out validation part (never the test set: digits uses its fixed
    1,077/360 split, cifar10 its 25k/25k halves), cost = the wall seconds of the training.  Every trial is a
    run directory ``<save_dir>/trial-<n>``, so a trial interrupted by a kill resumes from its last epoch."""

    parallel = True
    multi_fidelity = True

    def __init__(self, dataset: str, save_dir: str | os.PathLike, recipe: OptimConfig,
                 data_path: str | None = None, seed: int = 0, channel: int = 16, num_cells: int = 5,
                 device: str = "cpu") -> None:
        self.dataset, self.save_dir, self.recipe, self.data_path = dataset, Path(save_dir), recipe, data_path
        self.seed, self.channel, self.num_cells, self.device = seed, channel, num_cells, device
        self.space = NB201Space()

    def evaluate(self, candidate: Arch, budget: float | None, trial: int) -> Evaluation:
        epochs = self.recipe.epochs if budget is None else max(1, int(round(budget)))
        # one thread in every process: a trial scores the same in or out of a worker
        return Evaluation(*score_recipe({"name": "infer.tiny", "C": self.channel, "N": self.num_cells, "arch_str": str(candidate)},
                            dataclasses.replace(self.recipe, epochs=epochs), self.dataset,
                            self.save_dir / f"trial-{trial}", data_path=self.data_path,
                            seed=self.seed * 100003 + trial, device=self.device, threads=1))

    def describe(self) -> dict[str, Any]:
        return {"kind": "training", "dataset": self.dataset, "recipe": dataclasses.asdict(self.recipe),
                "seed": self.seed, "channel": self.channel, "num_cells": self.num_cells, "device": self.device}


def check(settings: SearchSettings) -> None:
    """Refuse a training search's bad settings before anything is written."""
    require_one_of("dataset", settings.dataset, DATASETS.names())


def from_settings(settings: SearchSettings, seed: int, save_dir: str | os.PathLike | None) -> TrainingEvaluator:
    """The training evaluator of a command-line search with ``seed``; its trials train under ``save_dir``/trials."""
    if save_dir is None:
        raise ConfigError("the training evaluator writes a run directory per trial; give --save-dir")
    if settings.recipe is None:
        raise ConfigError("the training evaluator needs a training recipe; give --recipe FILE "
                          "(e.g. configs/nas-benchmark/LESS.json, the NAS-Bench-201 12-epoch recipe)")
    recipe = load_config(OptimConfig, settings.recipe, epochs=settings.epochs, batch_size=settings.batch_size)
    return TrainingEvaluator(settings.dataset, Path(save_dir) / "trials", recipe, settings.data_path, seed,
                             settings.channel, settings.num_cells, settings.device)
