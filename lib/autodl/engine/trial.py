"""Training trials: train a model with a recipe on the training part of a dataset and score it on the held-out
validation part (:func:`train_recipe`, :func:`score_recipe`).  The NB201 training evaluator of the multi-trial
searches (:mod:`autodl.algorithms.multitrial.training`) and the recipe search of :mod:`autodl.hpo.recipe` both
train their trials with these."""
from __future__ import annotations

import os
import time
from typing import Any, Callable, Mapping

import torch

from ..config import OptimConfig, config_to_dict
from ..data.search import SEARCH_DATASETS, get_search_loaders
from ..data.splits import class_balanced_split, dataset_labels
from ..models import create_model, resolve_model_config
from .classification import ClassifierTask
from .device import prepare_model, resolve_device
from .rundir import RunDir
from .seed import seed_everything
from .trainer import Trainer


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
                 threads: int | None = None) -> tuple[float, float]:
    """One training trial: :func:`train_recipe` on ``threads`` torch threads (None: as they are; restored
    afterwards); returns (the last epoch's validation top-1 accuracy, the wall seconds of the training)."""
    previous_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        start = time.perf_counter()
        history = train_recipe(model_config, recipe, dataset, save_dir, data_path=data_path, seed=seed, device=device)
        return history[-1]["valid_top1"], time.perf_counter() - start
    finally:
        torch.set_num_threads(previous_threads)
