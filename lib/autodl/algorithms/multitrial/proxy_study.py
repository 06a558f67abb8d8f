"""A zero-cost proxy study: how well each proxy, and the two baselines (parameters and FLOPs of the cell's
network), rank ``cells`` cells sampled from a NAS-Bench-201 store by its accuracy.

Each sampled cell is scored by every measure on one fixed batch (:class:`~.proxies.ProxyEvaluator`: the
network's weights come from a seed of the study seed and the cell, so a cell's scores do not depend on the
order, the process or the worker that computes them).  Scores are appended, one line per cell, to
``scores.jsonl`` in the run directory as they arrive (from ``workers`` processes); a rerun with the same
settings skips the cells scored there and a rerun with other settings is refused.  When every cell is scored,
Spearman's rho and Kendall's tau-b of each measure with the accuracies (:mod:`.ranks`) are written as
``correlations.md`` and ``correlations.csv``, the scores as ``scores.csv``, everything as ``result.json``, and
a scatter plot per measure as ``scatter-<measure>.png`` (with matplotlib).  See docs/PROXY-STUDY.md.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import threading
import time
from concurrent.futures import Executor, as_completed
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch

from ...benchmarks.nb201 import NB201Benchmark
from ...engine.flops import count_flops, count_parameters
from ...errors import CheckpointError, ConfigError
from ...plotting import pyplot
from ...spaces.nb201 import Arch
from ...utils import atomic_write, atomic_write_text, make_dirs
from .backends import Backend
from .proxies import PROXIES, UNDEFINED, ProxyEvaluator, cached_batch
from .ranks import kendall, spearman

BASELINES: dict[str, Callable[[ProxyEvaluator, torch.nn.Module], float]] = {
    "params": lambda evaluator, network: float(count_parameters(network)),
    "flops": lambda evaluator, network: count_flops(network, (1,) + tuple(evaluator.inputs.shape[1:])),
}
"""The baselines by name: the parameter count and the multiply-accumulates per image (``engine.flops``) of the
network the proxies score."""

MEASURES = (*PROXIES, *BASELINES)
"""Every measure a study can report: the zero-cost proxies, then the baselines."""

PROXY_DATA = {"cifar10-valid": "cifar10", "cifar10": "cifar10", "cifar100": "cifar100",
              "ImageNet16-120": "ImageNet16-120", "digits-valid": "digits16", "digits": "digits16",
              "digits-halves": "digits16"}
"""Benchmark dataset -> the dataset whose training images form the proxies' batch by default."""

STUDY_FILE, SCORES_FILE = "study.json", "scores.jsonl"


@dataclass(frozen=True)
class StudySettings:
    """What defines a study (the scores and the table): the store, the accuracy it is compared with
    (``dataset``, ``split``, ``hp``; the seed-mean last-epoch accuracy), the sample (``cells``, ``seed``), the
    measures, and the proxies' batch and network (``channel`` C, ``num_cells`` N)."""

    benchmark: str
    dataset: str
    cells: int = 1000
    seed: int = 0
    hp: str = "200"
    split: str = "test"
    measures: tuple[str, ...] = MEASURES
    proxy_data: str | None = None
    proxy_batch: int = 64
    channel: int = 16
    num_cells: int = 5
    data_path: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "measures", tuple(self.measures))
        for name in self.measures:
            if name not in MEASURES:
                raise ConfigError(f"unknown proxy {name!r}; expected one of {', '.join(MEASURES)}")
        if not self.measures or len(set(self.measures)) != len(self.measures):
            raise ConfigError(f"the measures {', '.join(self.measures) or '(none)'} must be distinct and at least one; "
                              f"choose among {', '.join(MEASURES)}")
        if self.proxy_data is None:
            object.__setattr__(self, "proxy_data", PROXY_DATA.get(self.dataset, self.dataset))
        if self.cells < 2:
            raise ConfigError(f"a study of {self.cells} cells has no correlation; sample at least 2 cells")

    def to_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(dataclasses.asdict(self)))


@dataclass
class StudyResult:
    """A finished study: the sampled cells (benchmark indexes, in sample order), their accuracies and scores,
    each measure's correlations, and the mean scoring seconds per cell of each measure."""

    settings: StudySettings
    indexes: list[int]
    archs: list[str]
    accuracies: np.ndarray
    scores: dict[str, np.ndarray]
    correlations: dict[str, dict[str, float]]
    seconds: dict[str, float]
    scored_now: int = 0
    plotted: bool | None = None


def sample_cells(bench: NB201Benchmark, settings: StudySettings) -> tuple[list[int], np.ndarray]:
    """``settings.cells`` indexes drawn without replacement (``settings.seed``) from the store's cells that have
    the accuracy, and those accuracies (seed mean, last epoch, ``split`` of ``dataset`` under ``hp``)."""
    accuracies = bench.metric_all(settings.dataset, settings.split, "accuracy", settings.hp)
    candidates = np.flatnonzero(~np.isnan(accuracies) & bench.store.evaluated)
    if settings.cells > len(candidates):
        raise ConfigError(f"--cells {settings.cells} is more than the {len(candidates)} cells of {settings.benchmark} "
                          f"with a {settings.hp}-epoch {settings.dataset} {settings.split} accuracy; "
                          f"use --cells {len(candidates)} or fewer")
    chosen = np.random.default_rng(settings.seed).choice(candidates, size=settings.cells, replace=False)
    return [int(i) for i in chosen], accuracies[chosen]


@lru_cache(maxsize=2)
def _evaluator(proxy_data: str, proxy_batch: int, data_path: str | None, seed: int, channel: int,
               num_cells: int) -> ProxyEvaluator:
    """The scoring evaluator of a study, built once per process (its batch is read once)."""
    inputs, targets, num_classes = cached_batch(proxy_data, proxy_batch, data_path)
    return ProxyEvaluator(next(iter(PROXIES)), inputs, targets, num_classes, seed=seed, channel=channel,
                          num_cells=num_cells)


def score_cell(settings: StudySettings, arch: str) -> tuple[dict[str, float], dict[str, float]]:
    """Every measure of ``settings`` on ``arch``: (scores, the seconds each took)."""
    evaluator = _evaluator(settings.proxy_data, settings.proxy_batch, settings.data_path, settings.seed,
                           settings.channel, settings.num_cells)
    cell = Arch.from_str(arch)
    scores, seconds = {}, {}
    for name in settings.measures:
        start = time.perf_counter()
        if name in PROXIES:
            scores[name] = evaluator.score(cell, name)
        else:
            scores[name] = BASELINES[name](evaluator, evaluator.network(cell))
        seconds[name] = time.perf_counter() - start
    return scores, seconds


def _score_in_worker(settings: StudySettings, arch: str) -> tuple[dict[str, float], dict[str, float]]:
    _start_worker()
    return score_cell(settings, arch)


@lru_cache(maxsize=1)
def _start_worker() -> None:
    """Once per worker process: one torch thread (the workers share the cores), and a watch that ends the
    process when the study's process is gone (killed, it cannot shut its pool down)."""
    torch.set_num_threads(1)
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


class ScoreLog:
    """``scores.jsonl`` (a line per scored cell) and ``study.json`` (the settings) of a study's run directory."""

    def __init__(self, save_dir: str | os.PathLike, settings: StudySettings, sample: dict[int, str]) -> None:
        folder = make_dirs(save_dir)
        self.path, self.sample, self.measures = folder / SCORES_FILE, sample, settings.measures
        wanted, study = settings.to_dict(), folder / STUDY_FILE
        if study.is_file():
            try:
                previous = json.loads(study.read_text())
            except (json.JSONDecodeError, UnicodeDecodeError):
                previous = None
            if previous != wanted:
                changed = sorted(key for key in set(previous or {}) | set(wanted)
                                 if not isinstance(previous, dict) or previous.get(key) != wanted.get(key))
                raise CheckpointError(f"{folder} holds a study with other settings (differs in: {', '.join(changed)}); "
                                      "rerun with the same settings to resume it or pass a new --save-dir")
        elif self.path.is_file():
            raise CheckpointError(f"{self.path} has no {STUDY_FILE} beside it, so it is not a study's log; "
                                  "remove it or pass a new --save-dir")
        else:
            atomic_write_text(study, json.dumps(wanted, indent=2) + "\n")
        self.records = self._read()

    def _read(self) -> dict[int, dict[str, Any]]:
        if not self.path.is_file():
            return {}
        text = self.path.read_text()
        lines = text.splitlines()
        if text and not text.endswith("\n"):  # the last line was cut by a kill: drop it (that cell is scored again)
            lines = lines[:-1]
            atomic_write_text(self.path, "".join(line + "\n" for line in lines))
        records = {}
        for number, line in enumerate(lines, 1):
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                record = None
            if (not isinstance(record, dict) or self.sample.get(record.get("index")) != record.get("arch")
                    or set(record.get("scores", ())) != set(self.measures)):
                raise CheckpointError(f"{self.path} line {number} is not a score of a sampled cell; "
                                      "remove the run directory or pass a new --save-dir")
            records[record["index"]] = record
        return records

    def append(self, index: int, scores: dict[str, float], seconds: dict[str, float]) -> None:
        record = {"index": index, "arch": self.sample[index], "scores": scores, "seconds": seconds}
        with open(self.path, "a") as handle:
            handle.write(json.dumps(record) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        self.records[index] = record


def _scored(settings: StudySettings, todo: list[tuple[int, str]],
            workers: int) -> Iterator[tuple[int, tuple[dict[str, float], dict[str, float]]]]:
    """(index, scores) of every cell of ``todo``, in this process or as they finish on ``workers`` processes."""
    if workers == 1 or len(todo) <= 1:
        for index, arch in todo:
            yield index, score_cell(settings, arch)
        return
    pool: Executor = Backend("process").open(min(workers, len(todo)))
    try:
        futures = {pool.submit(_score_in_worker, settings, arch): index for index, arch in todo}
        for future in as_completed(futures):
            yield futures[future], future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def run_study(settings: StudySettings, save_dir: str | os.PathLike, workers: int = 1,
              progress: io.TextIOBase | None = None) -> StudyResult:
    """Score the sampled cells not yet in ``save_dir``'s log, then write the tables and plots (see the module)."""
    bench = NB201Benchmark.open(settings.benchmark)
    indexes, accuracies = sample_cells(bench, settings)
    archs = [bench.arch_str(index) for index in indexes]
    log = ScoreLog(save_dir, settings, dict(zip(indexes, archs)))
    todo = [(index, arch) for index, arch in zip(indexes, archs) if index not in log.records]
    every = max(1, len(indexes) // 20)
    for count, (index, (scores, seconds)) in enumerate(_scored(settings, todo, workers), 1):
        log.append(index, scores, seconds)
        if progress is not None and (count % every == 0 or count == len(todo)):
            print(f"scored {len(log.records)}/{len(indexes)} cells", file=progress, flush=True)
    scores = {name: np.array([log.records[i]["scores"][name] for i in indexes]) for name in settings.measures}
    result = StudyResult(
        settings, indexes, archs, accuracies, scores,
        {name: {"spearman": spearman(values, accuracies), "kendall": kendall(values, accuracies)}
         for name, values in scores.items()},
        {name: float(np.mean([log.records[i]["seconds"][name] for i in indexes])) for name in settings.measures},
        scored_now=len(todo))
    result.plotted = write_outputs(result, Path(save_dir))
    return result


def table_rows(result: StudyResult) -> list[list[str]]:
    """The correlation table: a row per measure (proxies, then baselines) with rho and tau-b to 3 decimals."""
    return [[name, f"{row['spearman']:.3f}", f"{row['kendall']:.3f}"] for name, row in result.correlations.items()]


def markdown_table(result: StudyResult) -> str:
    rows = ("| " + " | ".join(row) + " |" for row in table_rows(result))
    return "\n".join(["| measure | Spearman rho | Kendall tau-b |", "|---|---|---|", *rows]) + "\n"


def _csv(rows: list[list[Any]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def write_outputs(result: StudyResult, folder: Path) -> bool:
    """Write the tables, ``result.json`` and the plots into ``folder``; False when matplotlib is missing."""
    measures = list(result.scores)
    atomic_write_text(folder / "correlations.md", markdown_table(result))
    atomic_write_text(folder / "correlations.csv", _csv([["measure", "spearman", "kendall"], *table_rows(result)]))
    atomic_write_text(folder / "scores.csv", _csv(
        [["index", "arch", "accuracy", *measures],
         *([index, arch, repr(float(accuracy)), *(repr(float(result.scores[m][k])) for m in measures)]
           for k, (index, arch, accuracy) in enumerate(zip(result.indexes, result.archs, result.accuracies)))]))
    summary = {"settings": result.settings.to_dict(), "cells": len(result.indexes),
               "correlations": result.correlations, "seconds_per_cell": result.seconds}
    atomic_write_text(folder / "result.json", json.dumps(summary, indent=2) + "\n")
    return all(plot_scatter(folder / f"scatter-{name}.png", result, name) for name in measures)


def plot_scatter(path: Path, result: StudyResult, name: str) -> bool:
    """Accuracy against ``name``'s score, one point per cell (cells whose proxy is undefined, scored -1e30, are
    left out and counted in the title); a log x axis for non-negative scores spanning two decades or more."""
    plt = pyplot()
    if plt is None:
        return False
    scores, keep = result.scores[name], result.scores[name] > UNDEFINED
    figure, axis = plt.subplots(figsize=(5, 4))
    axis.scatter(scores[keep], result.accuracies[keep], s=8, alpha=0.6)
    positive = scores[keep & (scores > 0)]
    if keep.any() and scores[keep].min() >= 0 and positive.size and positive.max() >= 100 * positive.min():
        axis.set_xscale("symlog", linthresh=float(positive.min()))  # log beyond the smallest positive score, 0 shown
    settings, row = result.settings, result.correlations[name]
    dropped = f", {int((~keep).sum())} undefined" if (~keep).any() else ""
    axis.set_title(f"{name}: rho {row['spearman']:.3f}, tau {row['kendall']:.3f} ({len(scores)} cells{dropped})")
    axis.set_xlabel(f"{name} score")
    axis.set_ylabel(f"{settings.dataset} {settings.split} accuracy (%, hp {settings.hp})")
    figure.tight_layout()
    atomic_write(path, lambda tmp: figure.savefig(tmp, format="png", dpi=100))
    plt.close(figure)
    return True
