"""HPO of training recipes: a multi-trial optimiser (random, REA, BOHB, ...) tunes keys of an
:class:`~autodl.config.OptimConfig` (learning rate, weight decay, batch size, label smoothing, ...)
of a registered model on a dataset.

A trial trains the model with one recipe on the training part of the dataset and scores it by the
top-1 accuracy on the held-out validation part (never the test set): ``digits``/``digits16`` use
their fixed 1,077/360 split, ``cifar10`` its 25k/25k halves, ``cifar100``/``ImageNet16-120`` the
x-valid half of the test set (the NAS-Bench-201 protocol), any other dataset a class-balanced half
of its training set. The optimisers, the budget, ``trials.jsonl``, resume by replay and the worker
processes are the multi-trial driver's (:func:`autodl.algorithms.multitrial.run_trials`); this
module adds the evaluator and the entry point's library call.
"""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any, Callable, Mapping

from ..algorithms.multitrial import (OPTIMIZERS, Evaluation, Evaluator, HyperSpace, Trial, create_optimizer,
                                     run_trials)
from ..algorithms.multitrial.backends import Backend
from ..config import OptimConfig, config_from_dict, config_to_dict
from ..data import get_datasets
from ..engine.trial import score_recipe
from ..errors import ConfigError
from ..models import create_model, resolve_model_config
from ..utils import atomic_write_text
RECIPE_KEYS = tuple(field.name for field in dataclasses.fields(OptimConfig))


def recipe_for(base: OptimConfig, candidate: Mapping[str, Any], epochs: int | None = None) -> OptimConfig:
    """``base`` with the keys of ``candidate`` replaced (and ``epochs``, a multi-fidelity budget).

    A candidate that sets ``label_smooth`` trains with the ``SmoothSoftmax`` criterion, so that the
    value is used (a smoothing of 0 is plain cross-entropy).
    """
    values = {**config_to_dict(base), **candidate}
    if "label_smooth" in candidate:
        values["criterion"] = "SmoothSoftmax"
    if epochs is not None:
        values["epochs"] = epochs
    return config_from_dict(OptimConfig, values, source=f"recipe {json.dumps(dict(candidate))}")


def check_recipe_space(space: HyperSpace, base: OptimConfig, budget_is_epochs: bool) -> None:
    """Refuse a space whose parameters are not recipe keys, whose values make an invalid recipe, or that
    tunes ``epochs`` while the optimiser sets the epochs as its budget."""
    for param in space.params:
        if param.name not in RECIPE_KEYS:
            raise ConfigError(f"{space.name}: parameter {param.name!r} is not a key of a training recipe; "
                              f"rename it to one of the OptimConfig keys: {', '.join(RECIPE_KEYS)}")
        if budget_is_epochs and param.name == "epochs":
            raise ConfigError(f"{space.name}: a multi-fidelity algorithm sets 'epochs' as its budget "
                              "(--min-budget/--max-budget); remove 'epochs' from the space or use another --algo")
        values = param.choices if param.type == "categorical" else (param.from_unit(0.0), param.from_unit(1.0))
        for value in values:
            try:
                recipe_for(base, {param.name: value})
            except ConfigError as error:
                raise ConfigError(f"{space.name}: {param.name}={value!r} makes an invalid recipe ({error}); "
                                  "narrow the parameter's range") from None


class RecipeEvaluator(Evaluator):
    """Scores a recipe candidate by :func:`score_recipe`: the last epoch's validation top-1 accuracy;
    cost = the trial's wall seconds. The budget, when an optimiser gives one (a multi-fidelity one), is the recipe's
    ``epochs``. Every trial has its run directory ``<save_dir>/trial-<n>`` and trains with the same
    ``seed`` (common random numbers: trials differ only by their recipe). ``threads`` sets torch's
    threads in the process that trains (None: leave them as they are)."""

    parallel = True
    multi_fidelity = True

    def __init__(self, space: HyperSpace, model_config: Mapping[str, Any], base: OptimConfig, dataset: str,
                 save_dir: str | os.PathLike, data_path: str | None = None, seed: int = 0, device: str = "cpu",
                 threads: int | None = None) -> None:
        self.space, self.model_config, self.base = space, dict(model_config), base
        self.dataset, self.save_dir, self.data_path = dataset, Path(save_dir), data_path
        self.seed, self.device, self.threads = seed, device, threads

    def evaluate(self, candidate: dict[str, Any], budget: float | None, trial: int) -> Evaluation:
        recipe = recipe_for(self.base, candidate, None if budget is None else max(1, int(round(budget))))
        return Evaluation(*score_recipe(self.model_config, recipe, self.dataset, self.save_dir / f"trial-{trial}",
                                        data_path=self.data_path, seed=self.seed, device=self.device,
                                        threads=self.threads))

    def describe(self) -> dict[str, Any]:
        return {"kind": "recipe-training", "model": self.model_config, "base_recipe": config_to_dict(self.base),
                "dataset": self.dataset, "seed": self.seed, "device": self.device, "threads": self.threads}


def tune_recipe(algo: str, space: HyperSpace, model_config: Mapping[str, Any] | str | os.PathLike, base: OptimConfig,
                dataset: str, save_dir: str | os.PathLike, *, max_trials: int | None = None,
                time_budget: float | None = None, workers: int = 1, seed: int = 0, data_path: str | None = None,
                device: str = "cpu", options: Mapping[str, Any] | None = None, backend: str = "process", ray_address: str | None = None, threads: int = 1,
                on_trial: Callable[[Trial], None] | None = None) -> dict[str, Any]:
    """Search recipes with the optimiser ``algo`` until ``max_trials`` trials or ``time_budget`` seconds of
    training, ``workers`` trials at a time, each with ``threads`` torch threads (the same number whatever
    ``workers`` and the back-end, so that a trial scores the same everywhere); restarting on the same
    ``save_dir`` replays ``trials.jsonl``.

    ``backend="process"`` trains the trials in local worker processes; ``"ray"`` runs each as a Ray task of
    ``threads`` CPUs (:mod:`autodl.algorithms.multitrial.backends`) on the cluster at ``ray_address``, or,
    without one, on the Ray instance this process already started, else on a new local one with
    ``workers * threads`` CPUs.

    ``options`` are the optimiser's (the fields of its ``Options``).  A multi-fidelity optimiser's budgets are
    epochs, from ``min_budget`` (default 1) to ``max_budget`` (default: the base recipe's epochs).
    Writes ``<save_dir>/result.json`` and ``<save_dir>/best-recipe.json`` (the best recipe at the
    largest budget evaluated, an OptimConfig file for ``exps/basic-main.py --optim``); returns the result.
    """
    # bad input (an unknown model key, missing data) fails here, before the run directory is written
    num_classes = get_datasets(dataset, data_path).num_classes
    model_dict = resolve_model_config(model_config)
    model_dict.pop("_origin")
    create_model(model_dict, num_classes=num_classes)
    multi_fidelity = OPTIMIZERS.get(algo).multi_fidelity
    options = dict(options or {})
    if multi_fidelity:
        options = {"min_budget": 1, "max_budget": base.epochs, **options}
        if not 1 <= options["min_budget"] <= options["max_budget"]:
            raise ConfigError(f"{algo}'s budgets are epochs here: it needs 1 <= --min-budget <= --max-budget, "
                              f"got {options['min_budget']} and {options['max_budget']}")
    check_recipe_space(space, base, budget_is_epochs=multi_fidelity)
    optimizer = create_optimizer(algo, space, seed, **options)
    where = Backend(backend, ray_address, cpus_per_task=threads)
    evaluator: Evaluator = RecipeEvaluator(space, model_dict, base, dataset, Path(save_dir), data_path=data_path,
                                           seed=seed, device=device, threads=threads)
    config = {"algo": algo, "options": options, "space": space.describe(), "evaluator": evaluator.describe(),
              "seed": seed, "max_trials": max_trials, "time_budget": time_budget, "workers": workers}
    result = run_trials(optimizer, evaluator, time_budget=time_budget, max_trials=max_trials, save_dir=save_dir,
                        workers=workers, backend=where, config=config, on_trial=on_trial)
    best_trial = result.trials[result.best_trial]
    epochs = None if best_trial.budget is None else max(1, int(round(best_trial.budget)))
    best_recipe = recipe_for(base, result.best, epochs)
    summary = {"algo": algo, "dataset": dataset, "model": model_dict, "space": space.name,
               "best": space.to_json(result.best), "best_valid_top1": result.best_score, "best_trial": result.best_trial,
               "best_budget": best_trial.budget, "best_recipe": config_to_dict(best_recipe),
               "trials": len(result.trials), "total_cost_s": result.total_cost, "stopped": result.stopped}
    atomic_write_text(Path(save_dir) / "best-recipe.json", json.dumps(config_to_dict(best_recipe), indent=2) + "\n")
    atomic_write_text(Path(save_dir) / "result.json", json.dumps(summary, indent=2) + "\n")
    return summary

