"""Draw anytime curves (:mod:`autodl.algorithms.multitrial.curves`) with matplotlib: :func:`plot_curves` in this
process, or a :class:`Plotter`, a child interpreter started early that imports matplotlib (0.5 s of CPU) on
another core while its parent works, and draws when the parent hands it the curves.  Importing this module is
cheap (no NumPy, no matplotlib), so an entry point can start its plotter before its own imports."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from .utils import atomic_write

PLOT_HINT = "matplotlib is not installed; pip install -e .[plot] to draw it"


def pyplot() -> ModuleType | None:
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
    plt = pyplot()
    if plt is None:
        return False
    atomic_write(Path(path), lambda tmp: _draw(plt, tmp, curves, xlabel, ylabel, metric))
    return True


def _draw(plt: ModuleType, target: Any, curves: dict[str, list[dict[str, float | None]]], xlabel: str, ylabel: str,
          metric: str) -> None:
    figure, axis = plt.subplots(figsize=(6, 4))
    for label, curve in curves.items():
        rows = [row for row in curve if row[f"mean_{metric}"] is not None]
        times = [row["time_s"] for row in rows]
        mean, std = [row[f"mean_{metric}"] for row in rows], [row[f"std_{metric}"] for row in rows]
        axis.plot(times, mean, label=label)
        axis.fill_between(times, [m - s for m, s in zip(mean, std)], [m + s for m, s in zip(mean, std)], alpha=0.25)
    axis.set_xlabel(xlabel)
    axis.set_ylabel(ylabel)
    axis.legend(loc="lower right")  # anytime curves rise to the right: no search for the emptiest corner
    figure.subplots_adjust(left=0.12, right=0.97, bottom=0.12, top=0.97)  # fixed margins: tight_layout costs 30 ms
    figure.savefig(target, format="png", dpi=100)
    plt.close(figure)


class Plotter:
    """:func:`plot_curves` in a child interpreter started with the plotter; :meth:`plot` sends it the curves and
    waits for its answer (the PNG written), not for its exit.  The child draws a throwaway figure as soon as
    matplotlib is imported, so the real drawing finds the font loaded (same PNG, 20 ms sooner).  Leaving it as a
    context manager (or :meth:`close`) ends a child given nothing to draw; a parent that exits without either
    closes the child's stdin, which ends it too."""

    def __init__(self) -> None:
        self._child = subprocess.Popen([sys.executable, "-c", "from autodl.plotting import serve; serve()"],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def plot(self, path: str | os.PathLike, curves: dict[str, list[dict[str, float | None]]], xlabel: str,
             ylabel: str, metric: str) -> bool:
        """As :func:`plot_curves` (once per plotter)."""
        job = {"path": str(path), "curves": curves, "xlabel": xlabel, "ylabel": ylabel, "metric": metric}
        try:
            self._child.stdin.write(json.dumps(job))
            self._child.stdin.close()
        except BrokenPipeError:  # the child ended before its job: its stderr says why
            pass
        answer = self._child.stdout.readline().strip()  # its answer, not its exit: its teardown (0.1 s) is not waited for
        if answer not in ("drawn", "missing"):
            lines = self._child.stderr.read().strip().splitlines() or [f"exit code {self._child.wait()}"]
            raise RuntimeError(f"the process drawing {path} failed: {lines[-1]}")
        return answer == "drawn"

    def close(self) -> None:
        if self._child.poll() is None:
            self._child.kill()
        self._child.wait()
        for pipe in (self._child.stdin, self._child.stdout, self._child.stderr):
            pipe.close()

    def __enter__(self) -> "Plotter":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def serve() -> None:
    """The child of :class:`Plotter`: import matplotlib, then draw the job read from stdin (nothing: exit) and
    print ``drawn`` or ``missing`` (no matplotlib)."""
    plt = pyplot()
    if plt is not None:  # a first drawing loads the font and fills matplotlib's caches while the parent still works
        curve = [{"time_s": 0.0, "mean_y": 0.0, "std_y": 0.0}, {"time_s": 1.0, "mean_y": 1.0, "std_y": 0.5}]
        _draw(plt, io.BytesIO(), {"warm-up 0.5%": curve}, "time (s)", "accuracy (%)", "y")
    text = sys.stdin.read()
    if text:
        print("drawn" if plot_curves(**json.loads(text)) else "missing", flush=True)
