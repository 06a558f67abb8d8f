"""Run multi-trial NAS searches end to end: the library calls behind ``exps/search-multitrial.py``.

One run (:func:`search_once`) writes ``config.json``, ``trials.jsonl`` and ``result.json`` (the architecture
artifact) in its directory, and its anytime curve (``curves.csv``, ``curves.png`` with matplotlib);
re-running it on the same directory replays the log.  Several runs (:func:`search_many`, seeds ``0..K-1``
on the workers of a back-end) append a line per run to ``runs.jsonl`` as each run ends (a restart skips those), then
``summary.json`` with the paper's table (mean +- std of the found cells' 200-epoch accuracies) and the
runs' anytime curve (see :mod:`.curves`).  Nothing here imports torch: the evaluator's module is imported
when it is chosen (:data:`~.settings.EVALUATORS`).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable, TextIO

import numpy as np

from ...benchmarks.nb201.modern import REPORT_SPLIT
from ...errors import ConfigError, require_one_of
from ...plotting import Plotter, plot_curves
from ...spaces.artifact import save_artifact
from ...spaces.nb201 import arch_to_index
from ...utils import atomic_write_text
from .backends import Backend
from .base import OPTIMIZERS, create_optimizer, make_options
from .curves import CURVES_CSV, CURVES_PNG, anytime_curve, axis_labels, incumbent_points, write_curve_csv
from .driver import SearchResult, run_trials
from .evaluators import Evaluator, open_benchmark
from .progress import TrialLines
from .runlog import RunsLog
from .settings import EVALUATORS, SearchSettings, evaluator_module
from .warmstart import proxy_scorer


def check_settings(settings: SearchSettings) -> None:
    """Refuse bad settings with one sentence before anything is written."""
    optimizer = OPTIMIZERS.get(settings.algorithm)
    make_options(optimizer, settings.options)
    require_one_of("evaluator", settings.evaluator, list(EVALUATORS))
    if settings.time_budget is None and settings.max_trials is None:
        raise ConfigError("a search needs --time-budget or --max-trials; give one")
    evaluator_module(settings.evaluator).check(settings)
    if settings.multi_fidelity and settings.evaluator != "benchmark":
        raise ConfigError("--multi-fidelity applies to the benchmark evaluator; the training evaluator always "
                          "trains for BOHB's budget")


def build_evaluator(settings: SearchSettings, seed: int, save_dir: str | os.PathLike | None) -> Evaluator:
    """The evaluator of ``settings`` for the run with ``seed`` (benchmarks and proxy batches are read once per
    process); its module is imported here, so only the training and proxy evaluators import torch."""
    return evaluator_module(settings.evaluator).from_settings(settings, seed, save_dir)


def _report(evaluator: Evaluator, result: SearchResult) -> dict[str, Any]:
    numbers = evaluator.report(result.best)
    if numbers is None:
        return {"index": arch_to_index(result.best), "test_accuracy": None, "valid_accuracy": None}
    return numbers


def search_once(settings: SearchSettings, seed: int, save_dir: str | os.PathLike, backend: Backend = Backend(),
                progress: TextIO | None = None, plotter: Plotter | None = None) -> dict[str, Any]:
    """One search with ``seed`` in ``save_dir`` (resumed from its ``trials.jsonl``; a ``parallel`` evaluator's
    trials on ``backend``); writes ``result.json`` and the run's anytime curve.  With ``progress``, an evaluator
    whose trials take real time (training, proxies) prints a line per trial there (:class:`~.progress.TrialLines`).
    ``plotter`` draws ``curves.png`` (default: this process).  Returns the result row (``plot``: the PNG's name,
    None without matplotlib)."""
    check_settings(settings)
    save_dir = Path(save_dir)
    evaluator = build_evaluator(settings, seed, save_dir)
    optimizer = create_optimizer(settings.algorithm, evaluator.space, seed, **settings.options)
    config = {"settings": settings.to_dict(), "seed": seed, "space": evaluator.space.describe(),
              "evaluator": evaluator.describe()}
    lines = (TrialLines(evaluator.space, settings.max_trials, settings.time_budget, settings.workers, progress)
             if progress is not None and evaluator.real_time else None)
    result = run_trials(optimizer, evaluator, time_budget=settings.time_budget, max_trials=settings.max_trials,
                        save_dir=save_dir, workers=settings.workers, backend=backend, config=config, on_trial=lines,
                        warm_scorer=proxy_scorer(settings, seed))
    numbers = _report(evaluator, result)
    benchmark = None
    if numbers["test_accuracy"] is not None:
        setting, split = REPORT_SPLIT[settings.dataset]
        benchmark = {"hp": "200", "split": split, "setting": setting, "seeds": "mean", **numbers}
    incumbents = incumbent_points(result, evaluator)
    plot = write_curves(save_dir, settings, [incumbents], _horizon(settings, [(result.stopped, result.total_cost)]),
                        plot_curves if plotter is None else plotter.plot)
    extra: dict[str, Any] = {"config": config, "search_score": result.best_score, "best_trial": result.best_trial,
                             "trials": len(result.trials), "stopped": result.stopped, "incumbents": incumbents,
                             "curves": CURVES_CSV}
    if settings.evaluator == "proxy" and settings.benchmark is not None:
        cells = list({str(trial.candidate): trial.candidate for trial in result.trials}.values())
        extra["proxy_correlations"] = evaluator.benchmark_correlations(open_benchmark(str(settings.benchmark)),
                                                                       settings.dataset, cells)
    save_artifact(save_dir / "result.json", result.best, algorithm=settings.algorithm, dataset=settings.dataset,
                  seed=seed, search_cost_s=result.total_cost, benchmark=benchmark, **extra)
    return {"seed": seed, "arch": str(result.best), "score": result.best_score, **numbers, "cost_s": result.total_cost,
            "trials": len(result.trials), "plot": plot}


# ------------------------------------------------------------------------------------------ many runs
def _one_of_many(settings: SearchSettings, seed: int) -> dict[str, Any]:
    """A run of :func:`search_many`, kept in memory: its summary row and its incumbents (the anytime curve)."""
    evaluator = build_evaluator(settings, seed, None)
    optimizer = create_optimizer(settings.algorithm, evaluator.space, seed, **settings.options)
    result = run_trials(optimizer, evaluator, time_budget=settings.time_budget, max_trials=settings.max_trials,
                        warm_scorer=proxy_scorer(settings, seed))
    return {"seed": seed, "arch": str(result.best), "score": result.best_score, **_report(evaluator, result),
            "cost_s": result.total_cost, "trials": len(result.trials), "stopped": result.stopped,
            "incumbents": incumbent_points(result, evaluator)}


def search_many(settings: SearchSettings, runs: int, save_dir: str | os.PathLike, workers: int = 1,
                backend: Backend = Backend(), plotter: Plotter | None = None) -> dict[str, Any]:
    """``runs`` independent searches with seeds ``0..runs-1``, ``workers`` at a time on ``backend``, ``plotter``
    drawing ``curves.png`` (default: this process); returns the summary (``plot``: the PNG's name, None without
    matplotlib)."""
    check_settings(settings)
    if settings.evaluator == "training":
        raise ConfigError("--runs trains every run's cells from scratch; use it with the benchmark or proxy evaluator, "
                          "or run seeds one by one with --seed")
    save_dir = Path(save_dir)
    save_dir.mkdir(parents=True, exist_ok=True)
    log = RunsLog(save_dir)
    _check_same_settings(save_dir, settings, log)
    todo = [seed for seed in range(runs) if seed not in log.rows]
    with log:
        if workers > 1 and len(todo) > 1:
            with backend.open(workers) as pool:
                for row in pool.map(_one_of_many, [settings] * len(todo), todo,
                                    chunksize=max(1, len(todo) // (4 * workers))):
                    log.append(row)
        else:
            for seed in todo:
                log.append(_one_of_many(settings, seed))
        ordered = [log.rows[seed] for seed in range(runs)]
        summary = _summary(settings, ordered)
        horizon = _horizon(settings, [(row["stopped"], row["cost_s"]) for row in ordered])
        summary["curves"] = CURVES_CSV
        summary["plot"] = write_curves(save_dir, settings, [row["incumbents"] for row in ordered], horizon,
                                       plot_curves if plotter is None else plotter.plot)
    atomic_write_text(save_dir / "summary.json", json.dumps(summary, indent=2) + "\n")
    return summary


def _check_same_settings(save_dir: Path, settings: SearchSettings, log: RunsLog) -> None:
    path = save_dir / "settings.json"
    current = json.loads(json.dumps(settings.to_dict()))
    if path.is_file() and json.loads(path.read_text()) != current and log.holds_runs():
        raise ConfigError(f"{save_dir} holds runs of different settings; use the same settings to resume or a new --save-dir")
    atomic_write_text(path, json.dumps(current, indent=2) + "\n")


def _mean_std(values: list[float | None]) -> dict[str, float] | None:
    present = [v for v in values if v is not None]
    if not present:
        return None
    return {"mean": float(np.mean(present)), "std": float(np.std(present)), "runs": len(present)}


def _summary(settings: SearchSettings, rows: list[dict[str, Any]]) -> dict[str, Any]:
    public = [{key: row[key] for key in ("seed", "arch", "index", "score", "test_accuracy", "valid_accuracy", "cost_s",
                                         "trials")} for row in rows]
    return {"algorithm": settings.algorithm, "dataset": settings.dataset, "time_budget": settings.time_budget,
            "settings": settings.to_dict(), "runs": public,
            "table": {"score": _mean_std([row["score"] for row in rows]),
                      "test_accuracy": _mean_std([row["test_accuracy"] for row in rows]),
                      "valid_accuracy": _mean_std([row["valid_accuracy"] for row in rows]),
                      "cost_s": _mean_std([row["cost_s"] for row in rows])}}


def table_row(summary: dict[str, Any]) -> str:
    """The summary as a row of the paper's table: ``| algorithm | dataset | valid mean+-std | test mean+-std | runs |``;
    an evaluator without the benchmark's accuracies adds the mean +- std of the found cells' search scores."""
    def cell(name: str) -> str:
        stats = summary["table"][name]
        return "n/a" if stats is None else f"{stats['mean']:.2f}±{stats['std']:.2f}"

    row = (f"| {summary['algorithm']} | {summary['dataset']} | {cell('valid_accuracy')} | {cell('test_accuracy')} "
           f"| {len(summary['runs'])} |")
    if summary["table"]["test_accuracy"] is None:
        settings = summary["settings"]
        what = f"{settings['proxy']} proxy" if settings["evaluator"] == "proxy" else f"{settings['evaluator']} evaluator"
        row += f" search score {cell('score')} ({what})"
    return row


def _horizon(settings: SearchSettings, ends: list[tuple[str, float]]) -> float:
    """The time axis of the curves: the time budget where it ended a run, else the longest run's cost."""
    if settings.time_budget is not None and any(stopped == "budget" for stopped, _ in ends):
        return settings.time_budget
    return max(cost for _, cost in ends)


def write_curves(save_dir: Path, settings: SearchSettings, runs: list[list[dict[str, Any]]], horizon: float,
                 plot: Callable[..., bool] = plot_curves) -> str | None:
    """The anytime curve of ``runs`` (their incumbent points) as ``curves.csv`` and, with matplotlib,
    ``curves.png`` (test accuracy where the evaluator reports it, else the search score) drawn by ``plot``
    (:func:`autodl.plotting.plot_curves`, or a :class:`~autodl.plotting.Plotter`'s ``plot``); returns the PNG's name or None."""
    curve = anytime_curve(runs, horizon)
    write_curve_csv(save_dir / CURVES_CSV, curve)
    metric = "test_accuracy" if "mean_test_accuracy" in curve[0] else "score"
    label = settings.algorithm if len(runs) == 1 else f"{settings.algorithm} ({len(runs)} runs)"
    drawn = plot(save_dir / CURVES_PNG, {label: curve}, *axis_labels(settings, metric), metric)
    return CURVES_PNG if drawn else None
