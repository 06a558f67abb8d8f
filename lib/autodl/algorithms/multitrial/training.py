"""Training trials: train a model with a recipe on the training part of a dataset and score it on the held-out
validation part (:func:`train_recipe`, :func:`score_recipe`), and the training evaluator of NB201 cells built
on them.  The recipe search of :mod:`autodl.hpo.recipe` trains its trials with the same two functions."""
from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path
from typing import Any, Callable, Mapping

import torch

from ...config import OptimConfig, config_to_dict, load_config
from ...data.search import SEARCH_DATASETS, get_search_loaders
from ...data.splits import class_balanced_split, dataset_labels
from ...engine.classification import ClassifierTask
from ...engine.device import prepare_model, resolve_device
from ...engine.rundir import RunDir
from ...engine.seed import seed_everything
from ...engine.trainer import Trainer
from ...errors import ConfigError
from ...models import create_model, resolve_model_config
from ...spaces.nb201 import Arch
from .evaluators import Evaluation, Evaluator
from .settings import SearchSettings
from .space import NB201Space


def validation_split(dataset: str) -> Callable[[Any], tuple[list[int], list[int]]] | None:
    """None where the search loaders define the split (:data:`SEARCH_DATASETS`), else a class-balanced half."""
    if dataset in SEARCH_DATASETS:
        return None

    def halves(train_data: Any) -> tuple[list[int], list[int]]:
        split = class_balanced_split(dataset_labels(train_data), 0.5)
        return split["train"], split["valid"]

    return halves


def train_recipe(model_config: Mapping[str, Any] | str | os.PathLike, recipe: OptimConfig, dataset: str,
                 save_dir: str | os.PathLike, *, data_path: str | None = None, seed: int = 0, device: str = "cpu",
                 workers: int = 0) -> list[dict[str, Any]]:
    """Train ``model_config`` with ``recipe`` on the training part of ``dataset`` and evaluate the
    validation part after every epoch (``valid_top1``...), in the run directory ``save_dir`` (the
    engine's: config.json, metrics.jsonl, checkpoints; a killed run resumes). Returns the history."""
    torch_device = resolve_device(device)
    seed_everything(seed)
    batch_size = recipe.batch_size or 256
    loaders = get_search_loaders(dataset, data_path, batch_size=batch_size,
                                 test_batch_size=recipe.test_batch_size or batch_size, workers=workers, seed=seed,
                                 split=validation_split(dataset))
    model_dict = resolve_model_config(model_config, num_classes=loaders.num_classes)
    model_dict.pop("_origin")
    model = create_model(model_dict)
    run = RunDir(save_dir, echo=False)
    run.prepare({"model": model_dict, "optim": config_to_dict(recipe), "dataset": dataset,
                 "evaluated_on": "validation split", "seed": seed})
    model = prepare_model(model, torch_device)
    task = ClassifierTask(model, recipe, loaders.train, {"valid": loaders.valid}, torch_device)
    return Trainer(task, recipe.total_epochs, run, progress=False, score_key="valid_top1").fit()


def score_recipe(model_config: Mapping[str, Any], recipe: OptimConfig, dataset: str, save_dir: str | os.PathLike, *,
                 data_path: str | None = None, seed: int = 0, device: str = "cpu",
                 threads: int | None = None) -> Evaluation:
    """One trial of a training evaluator: :func:`train_recipe` on ``threads`` torch threads (None: as they
    are; restored afterwards); score = the last epoch's validation top-1 accuracy, cost = its wall seconds."""
    previous_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        start = time.perf_counter()
        history = train_recipe(model_config, recipe, dataset, save_dir, data_path=data_path, seed=seed, device=device)
        return Evaluation(history[-1]["valid_top1"], time.perf_counter() - start)
    finally:
        torch.set_num_threads(previous_threads)


class TrainingEvaluator(Evaluator):
    """Trains an NB201 cell's network (``C``, ``N``) with :func:`train_recipe` (the engine's Trainer) on the
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
        return score_recipe({"name": "infer.tiny", "C": self.channel, "N": self.num_cells, "arch_str": str(candidate)},
                            dataclasses.replace(self.recipe, epochs=epochs), self.dataset,
                            self.save_dir / f"trial-{trial}", data_path=self.data_path,
                            seed=self.seed * 100003 + trial, device=self.device, threads=1)

    def describe(self) -> dict[str, Any]:
        return {"kind": "training", "dataset": self.dataset, "recipe": dataclasses.asdict(self.recipe),
                "seed": self.seed, "channel": self.channel, "num_cells": self.num_cells, "device": self.device}


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
