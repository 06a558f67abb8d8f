"""Anytime curves of multi-trial searches: the incumbent over search time, as a CSV and a plot.

A run's incumbents are ``{"cost", "score", "test_accuracy"}`` points: the budget used when the incumbent
changed, its search score (what the evaluator measured: a 12-epoch validation accuracy, a validation top-1
after training, a proxy score) and, where the evaluator reports one (the benchmark), its final test accuracy.
:func:`anytime_curve` gives mean and std over runs at evenly spaced times; a time at which no run has an
incumbent yet has no value (an empty CSV cell), and the test-accuracy columns exist only when every
incumbent has a test accuracy.  Plots need matplotlib (``pip install -e .[plot]``); :mod:`autodl.plotting` draws
them, in this process or in a child started early.
"""
from __future__ import annotations

import bisect
import csv
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ...errors import ConfigError
from ...utils import atomic_write
from ...plotting import PLOT_HINT, plot_curves  # noqa: F401  (exps/compare-curves.py draws with them from here)
from .settings import SearchSettings

CURVE_POINTS = 101
CURVES_CSV = "curves.csv"
CURVES_PNG = "curves.png"


def incumbent_points(result: Any, evaluator: Any) -> list[dict[str, float | None]]:
    """The incumbents of a :class:`~.driver.SearchResult` as curve points (``evaluator.report`` gives the test
    accuracy, where there is one)."""
    points = []
    for cost, number in result.incumbents:
        trial = result.trials[number]
        report = evaluator.report(trial.candidate)
        points.append({"cost": cost, "score": trial.score,
                       "test_accuracy": None if report is None else report["test_accuracy"]})
    return points


def anytime_curve(runs: Sequence[list[dict[str, float | None]]], horizon: float,
                  points: int = CURVE_POINTS) -> list[dict[str, float | int | None]]:
    """Mean and std over ``runs`` (each a list of incumbent points) of the incumbent's score, and of its test
    accuracy where every point has one, at ``points`` times in ``[0, horizon]``."""
    metrics = ["score"]
    if all(point["test_accuracy"] is not None for run in runs for point in run):
        metrics.append("test_accuracy")
    costs = [[point["cost"] for point in run] for run in runs]  # ascending: a run's incumbents in search order
    curve = []
    for moment in np.linspace(0.0, horizon, points):
        known = [bisect.bisect_right(times, moment) for times in costs]
        latest = [run[count - 1] for run, count in zip(runs, known) if count]
        row: dict[str, float | int | None] = {"time_s": float(moment), "runs": len(latest)}
        for metric in metrics:
            values = [point[metric] for point in latest]
            row[f"mean_{metric}"] = float(np.mean(values)) if values else None
            row[f"std_{metric}"] = float(np.std(values)) if values else None
        curve.append(row)
    return curve


def write_curve_csv(path: str | os.PathLike, curve: list[dict[str, Any]]) -> None:
    """``curve`` as CSV (a missing value is an empty cell), written atomically."""
    def write(tmp: str) -> None:
        with open(tmp, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(curve[0]))
            writer.writeheader()
            writer.writerows(curve)

    atomic_write(path, write)


def read_curve_csv(path: str | os.PathLike) -> list[dict[str, float | None]]:
    """A curve written by :func:`write_curve_csv` (numbers as floats, empty cells as None)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path} does not exist; give the run directory of a finished exps/search-multitrial.py "
                          "search (it writes curves.csv)")
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or "time_s" not in rows[0] or "mean_score" not in rows[0]:
        raise ConfigError(f"{path} is not an anytime curve (no time_s/mean_score columns); rerun the search with "
                          "this version to rewrite it")
    return [{key: None if value == "" else float(value) for key, value in row.items()} for row in rows]


def shared_metric(curves: Sequence[list[dict[str, float | None]]]) -> str:
    """``test_accuracy`` when every curve has it, else ``score``."""
    return "test_accuracy" if all("mean_test_accuracy" in curve[0] for curve in curves) else "score"


def axis_labels(settings: SearchSettings, metric: str) -> tuple[str, str]:
    """The x and y labels of the curves of a command-line search's ``metric``."""
    xlabel = "simulated search time (s)" if settings.evaluator == "benchmark" else "search time (s)"
    if metric == "test_accuracy":
        return xlabel, f"test accuracy of the incumbent on {settings.dataset} (%)"
    score = {"benchmark": f"{settings.dataset} validation accuracy (%, search split)",
             "training": f"{settings.dataset} validation top-1 after training (%)",
             "proxy": f"{settings.proxy} score"}[settings.evaluator]
    return xlabel, f"incumbent's {score}"
