"""Draw anytime curves (:mod:`.curves`) with matplotlib: :func:`plot_curves` in this process, or, run as a file
(``runpy.run_path``, what :class:`.curves.Plotter` starts in a child), one job read from stdin as JSON: the file
imports matplotlib and :mod:`autodl.utils` only, so the child does not load the multi-trial package."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from types import ModuleType

import numpy as np

from autodl.utils import atomic_write


def _pyplot() -> ModuleType | None:
    """``matplotlib.pyplot`` on the Agg back-end, or None when matplotlib is not installed."""
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot

    return matplotlib.pyplot


def plot_curves(path: str | os.PathLike, curves: dict[str, list[dict[str, float | None]]], xlabel: str,
                ylabel: str, metric: str) -> bool:
    """Plot the mean (line) and std (band) of ``metric`` of every labelled curve in one PNG at ``path``;
    False, writing nothing, when matplotlib is not installed."""
    plt = _pyplot()
    if plt is None:
        return False
    figure, axis = plt.subplots(figsize=(6, 4))
    for label, curve in curves.items():
        rows = [row for row in curve if row[f"mean_{metric}"] is not None]
        times = np.array([row["time_s"] for row in rows])
        mean = np.array([row[f"mean_{metric}"] for row in rows])
        std = np.array([row[f"std_{metric}"] for row in rows])
        axis.plot(times, mean, label=label)
        axis.fill_between(times, mean - std, mean + std, alpha=0.25)
    axis.set_xlabel(xlabel)
    axis.set_ylabel(ylabel)
    axis.legend()
    figure.tight_layout()
    atomic_write(Path(path), lambda tmp: figure.savefig(tmp, format="png", dpi=100))
    plt.close(figure)
    return True


def serve() -> None:
    """The child's work: import matplotlib, then draw the job read from stdin (nothing: exit) and print ``drawn``
    or ``missing`` (no matplotlib)."""
    _pyplot()
    text = sys.stdin.read()
    if text:
        print("drawn" if plot_curves(**json.loads(text)) else "missing")


if __name__ == "__main__":
    serve()
