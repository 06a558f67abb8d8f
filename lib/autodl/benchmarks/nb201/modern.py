"""``NB201Benchmark``: explicit, vectorised NAS-Bench-201 queries with the reporting protocol built in.

Every query names its protocol: ``hp`` (``'200'`` or ``'12'`` training epochs), ``split``
(``train``/``valid``/``test`` or a recorded set ``x-valid``/``x-test``/``ori-test``) and ``seed``
(``'mean'`` over the runs, ``'all'`` runs, one seed as an int, or ``'random'`` with an explicit
``numpy.random.Generator``).  Nothing is random unless a generator is passed.  Architectures are
given as an index, a string or an ``Arch``-like object (anything whose ``str()`` is the string).
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import require_one_of
from .common import (REPORTING, SIMULATE_DATASETS, BenchmarkError, arch_to_string,
                     default_benchmark_path, resolve_split, split_choices)
from .readers import BenchmarkSource
from .store import INDEX_FILE, DatasetTable, Store

METRICS = ("accuracy", "loss", "epoch-time", "total-time", "accuracy5")
REPORT_SPLIT = {dataset: splits.test for dataset, splits in REPORTING.items()}
"""The paper's test numbers: ``cifar10`` is trained on train+valid and tested on ``ori-test``; the others on ``x-test``
(the digits demo's ``digits`` and ``digits-halves`` likewise; see ``common.REPORTING``)."""


class ReportingWarning(UserWarning):
    """A number that should not be reported as a final result (e.g. a 12-epoch accuracy)."""


class NB201Benchmark:
    """Explicit queries over a converted store (memory-mapped) or an official file converted in memory."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._index = {arch: i for i, arch in enumerate(store.meta_archs)}

    @classmethod
    def open(cls, path: str | os.PathLike | dict | None = None) -> "NB201Benchmark":
        """Open a store folder, or convert an official ``.pth`` / NATS file or dict in memory (None: default path)."""
        if path is None:
            path = default_benchmark_path()
        if isinstance(path, dict):
            return cls(Store.from_source(BenchmarkSource.from_dict(path)))
        path = Path(path)
        if path.is_dir() and (path / INDEX_FILE).is_file():
            return cls(Store.open(path))
        return cls(Store.from_source(BenchmarkSource.open(path)))

    def __len__(self) -> int:
        return len(self.store)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self.store.evaluated_indexes)}/{len(self)} architectures, source={self.store.filename})"

    @property
    def hps(self) -> list[str]:
        return list(self.store.hps)

    def datasets(self, hp: str = "200") -> list[str]:
        return self.store.datasets(str(hp))

    @property
    def arch_strs(self) -> list[str]:
        """Every architecture's string, by benchmark index."""
        return self.store.meta_archs

    @property
    def source(self) -> str:
        """The name of the file the benchmark was read or converted from."""
        return self.store.filename

    # --------------------------------------------------------------------------- architectures
    def index(self, arch: Any) -> int:
        """The benchmark index of ``arch``; unknown architectures raise :class:`BenchmarkError`."""
        if isinstance(arch, (int, np.integer)) and not isinstance(arch, bool):
            if 0 <= arch < len(self):
                return int(arch)
            raise BenchmarkError(f"architecture index {arch} is out of range; expected 0..{len(self) - 1}")
        text = arch_to_string(arch)
        if text is None or text not in self._index:
            raise BenchmarkError(
                f"architecture {arch!r} is not in the benchmark; expected an index or a string like "
                "'|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|'"
            )
        return self._index[text]

    def arch_str(self, arch: Any) -> str:
        return self.store.meta_archs[self.index(arch)]

    def seeds(self, arch: Any, dataset: str, hp: str = "200") -> list[int]:
        """The seeds of the runs of ``arch`` on ``dataset`` under ``hp`` (ascending; empty if none)."""
        return self.store.table(str(hp), dataset).seed_list(self.index(arch))

    # --------------------------------------------------------------------------------- helpers
    def _locate(self, dataset: str, split: str, hp: str) -> tuple[DatasetTable, str]:
        hp = str(hp)
        setting, setname = resolve_split(dataset, split)
        if setting != dataset and setting not in self.store.datasets(hp):
            raise BenchmarkError(f"split {split!r} of {dataset} is recorded on {setting}, which this benchmark does not "
                                 f"have for hp {hp}; it has {', '.join(self.store.datasets(hp))}")
        table = self.store.table(hp, setting)
        if setname != "train" and setname not in table.eval_sets:
            if (setting, setname) != (dataset, split):
                raise BenchmarkError(
                    f"split {split!r} of {dataset} is {setname} of {setting}, which this benchmark did not record "
                    f"(hp {hp}); it has train, {', '.join(table.eval_sets)}"
                )
            raise BenchmarkError(f"unknown split {split!r} for {dataset}; expected {split_choices(dataset, table.eval_sets)}")
        return table, setname

    @staticmethod
    def _row_name(setname: str, metric: str) -> str:
        require_one_of("metric", metric, METRICS, BenchmarkError)
        if metric == "accuracy5" and setname != "train":
            raise BenchmarkError("top-5 accuracy is recorded for the train split only; use split='train' or metric='accuracy'")
        field = {"epoch-time": "cur_time", "total-time": "all_time"}.get(metric, metric)
        return f"{setname}-{field}"

    @staticmethod
    def _pick(values: np.ndarray, seeds: list[int], seed: Any, rng: np.random.Generator | None) -> Any:
        """Reduce per-run ``values`` (one per seed in ``seeds``) by the seed protocol."""
        if not seeds:
            raise BenchmarkError("the architecture has no run for this dataset and hp; choose an evaluated architecture")
        if seed == "mean":
            return float(np.mean(values[: len(seeds)]))
        if seed == "all":
            return np.asarray(values[: len(seeds)], dtype=np.float64)
        if seed == "random":
            if not isinstance(rng, np.random.Generator):
                raise BenchmarkError("seed='random' needs rng=numpy.random.default_rng(...); pass a generator so the draw is reproducible")
            return float(values[int(rng.integers(len(seeds)))])
        if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed in seeds:
            return float(values[seeds.index(seed)])
        raise BenchmarkError(f"seed {seed!r} is invalid; expected 'mean', 'all', 'random' or one of the run seeds {seeds}")

    # --------------------------------------------------------------------------------- queries
    def metric(self, arch: Any, dataset: str, split: str = "valid", metric: str = "accuracy", hp: str = "200",
               seed: Any = "mean", epoch: int | None = None, rng: np.random.Generator | None = None) -> Any:
        """One metric of one architecture after ``epoch`` (0-based; None = last) under an explicit protocol."""
        table, setname = self._locate(dataset, split, hp)
        index = self.index(arch)
        seeds = table.seed_list(index)
        row = self._row_name(setname, metric)
        if epoch is None:
            values = table.final[table.final_index[row], index]
        else:
            values = self._epoch_values(table, index, len(seeds), setname, metric, epoch)
        value = self._pick(values, seeds, seed, rng)
        return None if isinstance(value, float) and np.isnan(value) else value

    def metric_runs(self, dataset: str, split: str = "valid", metric: str = "accuracy",
                    hp: str = "200") -> list[list[float]]:
        """Per architecture (by index), the last-epoch ``metric`` of each of its runs on ``dataset``/``split``
        under ``hp``, in the order of :meth:`seeds` (empty where it has none), as Python lists: a caller that
        answers many single look-ups (a simulated search) then needs no NumPy call.  Built anew by each call."""
        table, setname = self._locate(dataset, split, hp)
        values = table.final[table.final_index[self._row_name(setname, metric)]].tolist()
        return [row[:len(seeds)] for row, seeds in zip(values, table.seed_lists)]

    def run_epochs(self, dataset: str, hp: str = "200") -> list[list[int]]:
        """Per architecture (by index), the epochs each of its runs on ``dataset`` trained (in seed order)."""
        return self.store.table(str(hp), dataset).epoch_lists

    def _epoch_values(self, table: DatasetTable, index: int, count: int, setname: str, metric: str, epoch: int) -> np.ndarray:
        epochs = table.run_epochs[index, :count]
        if count and not all(0 <= epoch < e for e in epochs.tolist()):
            raise BenchmarkError(f"epoch {epoch} is out of range; expected 0..{int(epochs.min()) - 1} (0-based) or None for the last")
        name = {"epoch-time": "time", "total-time": "time"}.get(metric, metric)
        column = table.curve_index[f"{setname}-{name}"]
        curves = table.curves[index, :count, : epoch + 1, column].astype(np.float64)
        return np.cumsum(curves, axis=1)[:, -1] if metric == "total-time" else curves[:, -1]

    def curve(self, arch: Any, dataset: str, split: str = "valid", metric: str = "accuracy", hp: str = "200",
              seed: Any = "mean") -> np.ndarray:
        """The per-epoch curve of one metric (``seed='all'`` gives one row per run)."""
        table, setname = self._locate(dataset, split, hp)
        index = self.index(arch)
        seeds = table.seed_list(index)
        if not seeds:
            raise BenchmarkError(f"architecture {index} has no {hp}-epoch run on {dataset}; choose an evaluated architecture")
        self._row_name(setname, metric)  # checks the metric (top-5 is recorded for train only)
        name = {"epoch-time": "time", "total-time": "time"}.get(metric, metric)
        curves = table.curves[index, : len(seeds), :, table.curve_index[f"{setname}-{name}"]].astype(np.float64)
        if metric == "total-time":
            curves = np.cumsum(curves, axis=1)
        if seed == "all":
            return curves
        if seed == "mean":
            return curves.mean(axis=0)
        if isinstance(seed, (int, np.integer)) and seed in seeds:
            return curves[seeds.index(seed)]
        raise BenchmarkError(f"seed {seed!r} is invalid for a curve; expected 'mean', 'all' or one of {seeds}")

    def metric_all(self, dataset: str, split: str = "valid", metric: str = "accuracy", hp: str = "200",
                   seed: Any = "mean") -> np.ndarray:
        """One last-epoch metric for every architecture: float64 array of length ``len(self)``, NaN where not run.

        ``seed``: ``'mean'`` over each architecture's runs, or one seed value (NaN where it was not run).
        """
        table, setname = self._locate(dataset, split, hp)
        row = table.final_index[self._row_name(setname, metric)]
        if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
            values = np.where(table.seeds == seed, table.final[row], 0.0).sum(axis=1)
            return np.where((table.seeds == seed).any(axis=1), values, np.nan)
        if seed != "mean":
            raise BenchmarkError(f"seed {seed!r} is invalid for metric_all; expected 'mean' or a seed value")
        return self._mean(table, "final", row)

    @staticmethod
    def _mean(table: DatasetTable, kind: str, row: int) -> np.ndarray:
        return table.seed_mean_row(kind, row)

    def cost(self, arch: Any, dataset: str, hp: str = "200") -> dict[str, float | None]:
        """FLOPs (M), parameters (M) and latency (s per batch of 256) of ``arch``, averaged over its runs."""
        table = self.store.table(str(hp), dataset)
        index = self.index(arch)
        count = len(table.seed_list(index))
        if not count:
            raise BenchmarkError(f"architecture {index} has no {hp}-epoch run on {dataset}; choose an evaluated architecture")
        flops, params, latency = table.cost[:3, index, :count]
        latency = latency[latency > 0]
        return {"flops": float(flops.mean()), "params": float(params.mean()),
                "latency": float(latency.mean()) if latency.size else None}

    def cost_all(self, dataset: str, kind: str = "flops", hp: str = "200") -> np.ndarray:
        """``flops`` or ``params`` of every architecture (mean over runs; NaN where not run)."""
        require_one_of("cost", kind, ("flops", "params"), BenchmarkError)
        table = self.store.table(str(hp), dataset)
        return self._mean(table, "cost", 0 if kind == "flops" else 1)

    def find_best(self, dataset: str, split: str = "valid", hp: str = "200", max_flops: float | None = None,
                  max_params: float | None = None, metric: str = "accuracy") -> tuple[int, float]:
        """(index, value) of the architecture with the highest seed-mean ``metric`` under optional caps."""
        values = self.metric_all(dataset, split, metric, hp)
        table, _ = self._locate(dataset, split, hp)
        keep = ~np.isnan(values) & self.store.evaluated
        if max_flops is not None:
            keep &= self._mean(table, "cost", 0) <= max_flops
        if max_params is not None:
            keep &= self._mean(table, "cost", 1) <= max_params
        if not keep.any():
            raise BenchmarkError(f"no architecture satisfies the constraints on {dataset}; relax max_flops/max_params")
        best = int(np.argmax(np.where(keep, values, -np.inf)))
        return best, float(values[best])

    # ------------------------------------------------------------------------------- reporting
    def final_accuracy(self, arch: Any, dataset: str, hp: str = "200") -> float:
        """The paper's test accuracy: hp 200, mean over seeds, on ``REPORT_SPLIT[dataset]``: ``ori-test`` of cifar10
        (digits) or ``x-test`` of cifar100, ImageNet16-120 (digits-halves)."""
        require_one_of("reporting dataset", dataset, SIMULATE_DATASETS, BenchmarkError)
        self._warn_hp(hp)
        name, setname = REPORT_SPLIT[dataset]
        return self.metric(arch, name, setname, "accuracy", str(hp), "mean")

    def final_accuracies(self, dataset: str, hp: str = "200") -> np.ndarray:
        """``final_accuracy`` of every architecture as one array (NaN where not run)."""
        require_one_of("reporting dataset", dataset, SIMULATE_DATASETS, BenchmarkError)
        self._warn_hp(hp)
        name, setname = REPORT_SPLIT[dataset]
        return self.metric_all(name, setname, "accuracy", str(hp), "mean")

    @staticmethod
    def _warn_hp(hp: str) -> None:
        if str(hp) != "200":
            warnings.warn(f"hp={hp!r} is the short search-time recipe; report final accuracies with hp='200'",
                          ReportingWarning, stacklevel=3)
