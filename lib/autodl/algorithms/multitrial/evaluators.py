"""Evaluators: what a trial costs and scores.  One small interface, three kinds (benchmark, training, proxy).

``evaluate(candidate, budget, trial)`` returns an :class:`Evaluation` (score: higher is better; cost:
what the trial charges against the time budget).  ``trial`` is the trial's number in its search, so
any randomness an evaluator needs is a function of (seed, trial) and a replayed search sees the same
numbers.  ``parallel`` evaluators are heavy and run in worker processes; ``multi_fidelity`` ones use
the budget an optimiser asks for (BOHB).
"""
from __future__ import annotations

import itertools
import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ...benchmarks.nb201 import NB201Benchmark
from ...benchmarks.nb201.common import REPORTING, SIMULATE_DATASETS, BenchmarkError
from ...errors import ConfigError, require_one_of
from ...spaces.nb201 import EDGES, NUM_ARCHS, OP_NAMES, Arch, enumeration_position
from .settings import SearchSettings
from .space import NB201Space, SearchSpace


@dataclass(frozen=True)
class Evaluation:
    """The result of one trial."""

    score: float
    cost: float


class Evaluator(ABC):
    """Scores candidates of :attr:`space`."""

    space: SearchSpace
    parallel: bool = False
    multi_fidelity: bool = False
    real_time: bool = True
    """The cost is wall seconds spent now (a command-line search prints a line per trial); False: simulated."""

    @abstractmethod
    def evaluate(self, candidate: Any, budget: float | None, trial: int) -> Evaluation:
        """Score ``candidate`` (with ``budget`` where :attr:`multi_fidelity`), as trial number ``trial``."""

    def report(self, candidate: Any) -> dict[str, Any] | None:
        """Final numbers of a found candidate (the benchmark's reporting protocol), or None if there are none."""
        return None

    def describe(self) -> dict[str, Any]:
        """The evaluator's settings, logged in the run's config."""
        return {"kind": type(self).__name__}


def trial_draw(seed: int, trial: int, count: int) -> int:
    """A deterministic pseudo-random integer in ``[0, count)`` for (seed, trial) (a SplitMix64 step)."""
    value = (seed * 0x9E3779B97F4A7C15 + (trial + 1) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return ((value ^ (value >> 31)) >> 11) % count


class BenchmarkEvaluator(Evaluator):
    """"Train and evaluate" a NAS-Bench-201 cell by looking it up (spec 2.7), as ``simulate_train_eval`` does.

    Without a budget (or with ``multi_fidelity`` off): the valid accuracy of the 12-epoch record of one
    seed drawn for (seed, trial) on the dataset's search split (``REPORTING``: cifar10 reads
    cifar10-valid/x-valid); cost = its 12-epoch training time + one validation epoch.  With
    ``multi_fidelity`` and a budget ``b``: the same from the 200-epoch curves after ``round(b)`` epochs
    (cost = training time of those epochs + that epoch's validation time).
    """

    real_time = False

    def __init__(self, benchmark: NB201Benchmark, dataset: str, seed: int = 0, multi_fidelity: bool = False) -> None:
        require_one_of("dataset", dataset, SIMULATE_DATASETS)
        self.benchmark, self.dataset, self.seed, self.multi_fidelity = benchmark, dataset, seed, multi_fidelity
        self.space = NB201Space()
        self.setting, self.setname = REPORTING[dataset].valid
        self._score, self._cost, self._counts = _lookup_lists(benchmark, self.setting, self.setname)
        self._position = _positions(benchmark)

    def index(self, arch: Arch) -> int:
        """The benchmark's index of ``arch`` (the official index for the official files)."""
        index = self._position[enumeration_position(arch)]
        if index < 0:
            raise BenchmarkError(f"architecture {arch} is not in the benchmark {self.benchmark.source}; "
                                 "search a benchmark that lists the whole space")
        return index

    def evaluate(self, candidate: Arch, budget: float | None, trial: int) -> Evaluation:
        index = self.index(candidate)
        count = self._counts[index]
        if not self._score[index]:
            raise BenchmarkError(f"architecture {index} has no 12-epoch run on {self.setting}; the benchmark is incomplete")
        slot = trial_draw(self.seed, trial, count) if count > 1 else 0
        if budget is None or not self.multi_fidelity:
            return Evaluation(self._score[index][slot], self._cost[index][slot])
        return self._at_epoch(index, int(round(budget)), trial)

    def _at_epoch(self, index: int, epochs: int, trial: int) -> Evaluation:
        bench = self.benchmark
        seeds = bench.seeds(index, self.setting, "200")
        seed = seeds[trial_draw(self.seed, trial, len(seeds))]
        score = bench.metric(index, self.setting, self.setname, "accuracy", "200", seed, epoch=epochs - 1)
        train = bench.metric(index, self.setting, "train", "total-time", "200", seed, epoch=epochs - 1)
        valid = bench.metric(index, self.setting, self.setname, "epoch-time", "200", seed, epoch=epochs - 1)
        return Evaluation(score, train + valid)

    def report(self, candidate: Arch) -> dict[str, Any]:
        """The paper's numbers of ``candidate``: index, 200-epoch valid and test accuracy (mean over seeds)."""
        index = self.index(candidate)
        test, valid = _final_lists(self.benchmark, self.dataset)
        return {"index": index, "test_accuracy": test[index], "valid_accuracy": valid[index]}

    def describe(self) -> dict[str, Any]:
        return {"kind": "benchmark", "benchmark": self.benchmark.source, "dataset": self.dataset,
                "search_split": [self.setting, self.setname], "seed": self.seed, "multi_fidelity": self.multi_fidelity}


@lru_cache(maxsize=4)
def open_benchmark(path: str) -> NB201Benchmark:
    """The benchmark at ``path``, opened once per process (the searches of ``--runs`` share it)."""
    return NB201Benchmark.open(path)


def check(settings: SearchSettings) -> None:
    """Refuse a benchmark search's bad settings before anything is written (each evaluator module has one)."""
    if settings.benchmark is None:
        raise ConfigError("the benchmark evaluator needs --benchmark PATH (a NAS-Bench-201 store or .pth); "
                          "without one use --evaluator training or --evaluator proxy")
    require_one_of("benchmark dataset", settings.dataset, SIMULATE_DATASETS)


def from_settings(settings: SearchSettings, seed: int, save_dir: str | os.PathLike | None) -> BenchmarkEvaluator:
    """The benchmark evaluator of a command-line search (:class:`~.settings.SearchSettings`) with ``seed``."""
    return BenchmarkEvaluator(open_benchmark(str(settings.benchmark)), settings.dataset, seed=seed,
                              multi_fidelity=settings.multi_fidelity)


@lru_cache(maxsize=8)
def _lookup_lists(bench: NB201Benchmark, setting: str, setname: str) -> tuple[list[list[float]], list[list[float]], list[int]]:
    """Per architecture and run (seed order): the 12-epoch ``setname`` accuracy of ``setting`` and the simulated
    cost (train time + one evaluation epoch); and the run count (at least 1).  Python lists, built once per
    benchmark and split for every evaluator of the process: a search's look-ups then need no NumPy call."""
    score = bench.metric_runs(setting, setname, "accuracy", "12")
    train = bench.metric_runs(setting, "train", "total-time", "12")
    evaluation = bench.metric_runs(setting, setname, "total-time", "12")
    epochs = bench.run_epochs(setting, "12")
    cost = [[t + e / (n if n > 0 else 1) for t, e, n in zip(*runs)] for runs in zip(train, evaluation, epochs)]
    return score, cost, [max(len(runs), 1) for runs in score]


@lru_cache(maxsize=8)
def _final_lists(bench: NB201Benchmark, dataset: str) -> tuple[list[float | None], list[float | None]]:
    """Per architecture, :meth:`~NB201Benchmark.final_accuracy` and the 200-epoch valid accuracy (seed means) on
    ``dataset``, None where it was not run: the whole space in two array queries, for every report."""
    arrays = bench.final_accuracies(dataset), bench.metric_all(dataset, "valid", "accuracy", "200")
    return tuple([None if value != value else value for value in array.tolist()] for array in arrays)


@lru_cache(maxsize=8)
def _positions(bench: NB201Benchmark) -> list[int]:
    """Enumeration position of a cell -> its index in the benchmark (-1: not listed).  A string of the canonical
    form ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`` is looked up in a table of all of them, made by formatting
    (a string that matches the form is the cell of those ops whatever ``Arch.__str__`` does; 10x faster than
    parsing); any other string is parsed."""
    template = "|{}~0|+|{}~0|{}~1|+|{}~0|{}~1|{}~2|"
    canonical = {template.format(*ops): position
                 for position, ops in enumerate(itertools.product(OP_NAMES, repeat=len(EDGES)))}
    positions = [-1] * NUM_ARCHS
    for index, text in enumerate(bench.arch_strs):
        position = canonical.get(text)
        positions[enumeration_position(Arch.from_str(text)) if position is None else position] = index
    return positions
