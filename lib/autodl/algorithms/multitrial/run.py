"""Run multi-trial NAS searches end to end: the library calls behind ``exps/search-multitrial.py``.

One run (:func:`search_once`) writes ``config.json``, ``trials.jsonl`` and ``result.json`` (the architecture
artifact) in its directory; re-running it on the same directory replays the log.  Several runs
(:func:`search_many`, seeds ``0..K-1`` in worker processes) write ``runs/seed-<s>.json`` as each run ends (a
restart skips those), then ``summary.json`` with the paper's table (mean +- std of the found cells'
200-epoch accuracies), ``curves.csv`` (the anytime curve) and ``curves.png`` when matplotlib is installed.
"""
from __future__ import annotations

import csv
import dataclasses
import inspect
import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ...benchmarks.nb201 import NB201Benchmark
from ...benchmarks.nb201.common import SIMULATE_DATASETS, check_choice
from ...benchmarks.nb201.modern import REPORT_SPLIT
from ...config import OptimConfig, load_config
from ...errors import ConfigError
from ...spaces.artifact import save_artifact
from ...spaces.nb201 import arch_to_index
from ...utils import atomic_write_text
from .base import OPTIMIZERS, create_optimizer
from .driver import SearchResult, run_trials
from .evaluators import BenchmarkEvaluator, Evaluator

EVALUATORS = ("benchmark", "training", "proxy")
CURVE_POINTS = 101


@dataclass(frozen=True)
class SearchSettings:
    """Everything that defines a search (``options``: the algorithm's keyword arguments, e.g. ``population``)."""

    algorithm: str
    dataset: str
    time_budget: float | None = 12000.0
    max_trials: int | None = None
    evaluator: str = "benchmark"
    benchmark: str | None = None
    multi_fidelity: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    proxy: str = "naswot"
    proxy_data: str = "digits16"
    proxy_batch: int = 64
    channel: int = 16
    num_cells: int = 5
    recipe: str | None = None
    epochs: int = 12
    batch_size: int = 64
    data_path: str | None = None
    device: str = "cpu"
    workers: int = 1

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def check_settings(settings: SearchSettings) -> None:
    """Refuse bad settings with one sentence before anything is written."""
    OPTIMIZERS.get(settings.algorithm)
    accepted = set(inspect.signature(OPTIMIZERS.get(settings.algorithm).__init__).parameters) - {"self", "space", "seed"}
    unknown = sorted(set(settings.options) - accepted)
    if unknown:
        raise ConfigError(f"option {unknown[0]!r} does not apply to {settings.algorithm}; it takes "
                          f"{', '.join(sorted(accepted)) or 'no options'}")
    check_choice("evaluator", settings.evaluator, EVALUATORS)
    if settings.time_budget is None and settings.max_trials is None:
        raise ConfigError("a search needs --time-budget or --max-trials; give one")
    if settings.evaluator == "benchmark":
        if settings.benchmark is None:
            raise ConfigError("the benchmark evaluator needs --benchmark PATH (a NAS-Bench-201 store or .pth); "
                              "without one use --evaluator training or --evaluator proxy")
        check_choice("benchmark dataset", settings.dataset, SIMULATE_DATASETS)
    if settings.multi_fidelity and settings.evaluator != "benchmark":
        raise ConfigError("--multi-fidelity applies to the benchmark evaluator; the training evaluator always "
                          "trains for BOHB's budget")


@lru_cache(maxsize=4)
def _open_benchmark(path: str) -> NB201Benchmark:
    return NB201Benchmark.open(path)


@lru_cache(maxsize=2)
def _proxy_batch(dataset: str, size: int, data_path: str | None) -> tuple[Any, Any, int]:
    from ...data import get_datasets
    from .proxies import fixed_batch

    inputs, targets = fixed_batch(dataset, size, data_path)
    return inputs, targets, get_datasets(dataset, data_path).num_classes


def build_evaluator(settings: SearchSettings, seed: int, save_dir: str | os.PathLike | None) -> Evaluator:
    """The evaluator of ``settings`` for the run with ``seed`` (benchmarks are opened once per process)."""
    if settings.evaluator == "benchmark":
        return BenchmarkEvaluator(_open_benchmark(str(settings.benchmark)), settings.dataset, seed=seed,
                                  multi_fidelity=settings.multi_fidelity)
    if settings.evaluator == "proxy":
        from .proxies import ProxyEvaluator

        inputs, targets, classes = _proxy_batch(settings.proxy_data, settings.proxy_batch, settings.data_path)
        return ProxyEvaluator(settings.proxy, inputs, targets, classes, seed=seed, channel=settings.channel,
                              num_cells=settings.num_cells)
    from .training import TrainingEvaluator

    if save_dir is None:
        raise ConfigError("the training evaluator writes a run directory per trial; give --save-dir")
    if settings.recipe is None:
        raise ConfigError("the training evaluator needs a training recipe; give --recipe FILE "
                          "(e.g. configs/nas-benchmark/LESS.json, the NAS-Bench-201 12-epoch recipe)")
    recipe = load_config(OptimConfig, settings.recipe, epochs=settings.epochs, batch_size=settings.batch_size)
    return TrainingEvaluator(settings.dataset, Path(save_dir) / "trials", recipe, settings.data_path, seed,
                             settings.channel, settings.num_cells, settings.device)


def _report(evaluator: Evaluator, result: SearchResult) -> dict[str, Any]:
    numbers = evaluator.report(result.best)
    if numbers is None:
        return {"index": arch_to_index(result.best), "test_accuracy": None, "valid_accuracy": None}
    return numbers


def search_once(settings: SearchSettings, seed: int, save_dir: str | os.PathLike) -> dict[str, Any]:
    """One search with ``seed`` in ``save_dir`` (resumed from its ``trials.jsonl``); writes ``result.json``."""
    check_settings(settings)
    save_dir = Path(save_dir)
    evaluator = build_evaluator(settings, seed, save_dir)
    optimizer = create_optimizer(settings.algorithm, evaluator.space, seed, **settings.options)
    config = {"settings": settings.to_dict(), "seed": seed, "space": evaluator.space.describe(),
              "evaluator": evaluator.describe()}
    result = run_trials(optimizer, evaluator, time_budget=settings.time_budget, max_trials=settings.max_trials,
                        save_dir=save_dir, workers=settings.workers, config=config)
    numbers = _report(evaluator, result)
    benchmark = None
    if numbers["test_accuracy"] is not None:
        setting, split = REPORT_SPLIT[settings.dataset]
        benchmark = {"hp": "200", "split": split, "setting": setting, "seeds": "mean", **numbers}
    extra: dict[str, Any] = {"config": config, "search_score": result.best_score, "best_trial": result.best_trial,
                             "trials": len(result.trials), "stopped": result.stopped}
    if settings.evaluator == "proxy" and settings.benchmark is not None:
        extra["proxy_correlations"] = _correlations(settings, evaluator, result)
    save_artifact(save_dir / "result.json", result.best, algorithm=settings.algorithm, dataset=settings.dataset,
                  seed=seed, search_cost_s=result.total_cost, benchmark=benchmark, **extra)
    return {"seed": seed, "arch": str(result.best), **numbers, "cost_s": result.total_cost, "trials": len(result.trials)}


def _correlations(settings: SearchSettings, evaluator: Any, result: SearchResult) -> dict[str, Any]:
    """Spearman and Kendall correlation of every proxy with the final accuracy, over the cells the search scored."""
    from .proxies import proxy_correlations

    check_choice("benchmark dataset", settings.dataset, SIMULATE_DATASETS)
    bench = _open_benchmark(str(settings.benchmark))
    cells = list({str(trial.candidate): trial.candidate for trial in result.trials}.values())
    lookup = BenchmarkEvaluator(bench, settings.dataset)
    accuracies = np.array([bench.final_accuracy(lookup.index(cell), settings.dataset) for cell in cells])
    return {"cells": len(cells), **proxy_correlations(evaluator, cells, accuracies)}


# ------------------------------------------------------------------------------------------ many runs
def _one_of_many(settings: SearchSettings, seed: int) -> dict[str, Any]:
    """A run of :func:`search_many`, kept in memory: its summary row and its anytime curve."""
    evaluator = build_evaluator(settings, seed, None)
    optimizer = create_optimizer(settings.algorithm, evaluator.space, seed, **settings.options)
    result = run_trials(optimizer, evaluator, time_budget=settings.time_budget, max_trials=settings.max_trials)
    numbers = _report(evaluator, result)
    anytime = []
    for cost, trial in result.incumbents:
        cell = result.trials[trial].candidate
        report = evaluator.report(cell)
        anytime.append([cost, None if report is None else report["test_accuracy"]])
    return {"seed": seed, "arch": str(result.best), **numbers, "cost_s": result.total_cost,
            "trials": len(result.trials), "anytime": anytime}


def search_many(settings: SearchSettings, runs: int, save_dir: str | os.PathLike, workers: int = 1) -> dict[str, Any]:
    """``runs`` independent searches with seeds ``0..runs-1`` in ``workers`` processes; returns the summary."""
    check_settings(settings)
    if settings.evaluator == "training":
        raise ConfigError("--runs trains every run's cells from scratch; use it with the benchmark or proxy evaluator, "
                          "or run seeds one by one with --seed")
    save_dir = Path(save_dir)
    folder = save_dir / "runs"
    folder.mkdir(parents=True, exist_ok=True)
    _check_same_settings(save_dir, settings)
    rows = {}
    for seed in range(runs):
        path = folder / f"seed-{seed}.json"
        if path.is_file():
            rows[seed] = json.loads(path.read_text())
    todo = [seed for seed in range(runs) if seed not in rows]

    def keep(row: dict[str, Any]) -> None:
        atomic_write_text(folder / f"seed-{row['seed']}.json", json.dumps(row) + "\n")
        rows[row["seed"]] = row

    if workers > 1 and len(todo) > 1:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            for row in pool.map(_one_of_many, [settings] * len(todo), todo, chunksize=max(1, len(todo) // (4 * workers))):
                keep(row)
    else:
        for seed in todo:
            keep(_one_of_many(settings, seed))
    ordered = [rows[seed] for seed in range(runs)]
    summary = _summary(settings, ordered)
    curve = anytime_curve(ordered, settings.time_budget or max(row["cost_s"] for row in ordered))
    _write_curve(save_dir, curve, settings)
    summary["curves"] = "curves.csv"
    atomic_write_text(save_dir / "summary.json", json.dumps(summary, indent=2) + "\n")
    return summary


def _check_same_settings(save_dir: Path, settings: SearchSettings) -> None:
    path = save_dir / "settings.json"
    current = json.loads(json.dumps(settings.to_dict()))
    if path.is_file() and json.loads(path.read_text()) != current and any((save_dir / "runs").iterdir()):
        raise ConfigError(f"{save_dir} holds runs of different settings; use the same settings to resume or a new --save-dir")
    atomic_write_text(path, json.dumps(current, indent=2) + "\n")


def _mean_std(values: list[float | None]) -> dict[str, float] | None:
    present = [v for v in values if v is not None]
    if not present:
        return None
    return {"mean": float(np.mean(present)), "std": float(np.std(present)), "runs": len(present)}


def _summary(settings: SearchSettings, rows: list[dict[str, Any]]) -> dict[str, Any]:
    public = [{key: row[key] for key in ("seed", "arch", "index", "test_accuracy", "valid_accuracy", "cost_s", "trials")}
              for row in rows]
    return {"algorithm": settings.algorithm, "dataset": settings.dataset, "time_budget": settings.time_budget,
            "settings": settings.to_dict(), "runs": public,
            "table": {"test_accuracy": _mean_std([row["test_accuracy"] for row in rows]),
                      "valid_accuracy": _mean_std([row["valid_accuracy"] for row in rows]),
                      "cost_s": _mean_std([row["cost_s"] for row in rows])}}


def table_row(summary: dict[str, Any]) -> str:
    """The summary as a row of the paper's table: ``| algorithm | dataset | valid mean+-std | test mean+-std | runs |``."""
    def cell(name: str) -> str:
        stats = summary["table"][name]
        return "n/a" if stats is None else f"{stats['mean']:.2f}±{stats['std']:.2f}"

    return (f"| {summary['algorithm']} | {summary['dataset']} | {cell('valid_accuracy')} | {cell('test_accuracy')} "
            f"| {len(summary['runs'])} |")


def anytime_curve(rows: list[dict[str, Any]], horizon: float, points: int = CURVE_POINTS) -> list[dict[str, float]]:
    """Mean and std over runs of the incumbent's test accuracy at ``points`` times in ``[0, horizon]``
    (runs without an incumbent yet are left out of that time's statistics)."""
    times = np.linspace(0.0, horizon, points)
    curve = []
    for moment in times:
        values = []
        for row in rows:
            known = [accuracy for cost, accuracy in row["anytime"] if cost <= moment and accuracy is not None]
            if known:
                values.append(known[-1])
        curve.append({"time_s": float(moment), "mean_test_accuracy": float(np.mean(values)) if values else float("nan"),
                      "std_test_accuracy": float(np.std(values)) if values else float("nan"), "runs": len(values)})
    return curve


def _write_curve(save_dir: Path, curve: list[dict[str, float]], settings: SearchSettings) -> None:
    def write(tmp: str) -> None:
        with open(tmp, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(curve[0]))
            writer.writeheader()
            writer.writerows(curve)

    from ...utils import atomic_write

    atomic_write(save_dir / "curves.csv", write)
    try:
        import matplotlib
    except ImportError:
        return  # the PNG is optional: pip install -e .[plot]
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    times = np.array([point["time_s"] for point in curve])
    mean = np.array([point["mean_test_accuracy"] for point in curve])
    std = np.array([point["std_test_accuracy"] for point in curve])
    figure, axis = plt.subplots(figsize=(6, 4))
    axis.plot(times, mean, label=settings.algorithm)
    axis.fill_between(times, mean - std, mean + std, alpha=0.3)
    axis.set_xlabel("simulated search time (s)" if settings.evaluator == "benchmark" else "search time (s)")
    axis.set_ylabel(f"test accuracy of the incumbent on {settings.dataset} (%)")
    axis.legend()
    figure.tight_layout()
    atomic_write(save_dir / "curves.png", lambda tmp: figure.savefig(tmp, format="png", dpi=100))
    plt.close(figure)
