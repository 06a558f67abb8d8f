"""Our columnar NAS-Bench-201 store: a folder of ``.npy`` arrays plus ``index.json``, memory-mapped on open.

Layout (``A`` architectures, ``S`` seed slots, ``E`` epochs; one sub-folder ``hp<hp>/<dataset>/``, whose
``R`` rows are the architectures with a run of that hp and dataset, so a file that evaluated 300 cells
takes the room of 300, not of 15,625)::

    index.json      format, version, source file, meta_archs, per hp: epochs, seed slots, datasets,
                    their evaluation sets (the column order of the arrays below) and row counts
    evaluated.npy   bool  [A]
    archs.npy       int64 [R]           the architecture index of each row, ascending
    seeds.npy       int64 [R, S]        the run seeds in ascending order, -1 = no run
    epochs.npy      int32 [R, S]        epochs of each run
    final.npy       f64   [M, R, S]     last-epoch metrics (FINAL_COLUMNS), exact float64
    cost.npy        f64   [K, R, S]     flops, params, latency, T-train@epoch/total, T-<set>@epoch/total
    curves.npy      f32   [R, S, E, C]  per-epoch curves (CURVE_COLUMNS); float64 on request
    config.npy      int32 [R, 3]        channel, num_cells, class_num

Readers see every array indexed by architecture (:class:`DatasetTable`): the small ones are expanded on
load (-1 seeds, NaN metrics for the architectures without a row), the curves are mapped row by row
(:class:`ArchRows`).  Version-1 stores (every array over all ``A`` architectures) still open.
Missing values are NaN.  The last-epoch and cost arrays hold exactly the numbers the official
formulas give (they are computed with them while converting); per-epoch curves are float32 by
default (relative error below 1e-7) to keep the store about a third of the official file's size.
Files are written next to their final place and renamed, so a store is never half-written.
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from ...errors import require_one_of
from ...utils import make_temp_dir
from .common import BenchmarkError
from .readers import BenchmarkSource

STORE_FORMAT = "autodl-nb201-store"
STORE_VERSION = 2
READABLE_VERSIONS = (1, 2)
INDEX_FILE = "index.json"
TRAIN_CURVES = ("train-loss", "train-accuracy", "train-accuracy5", "train-time")
SET_CURVES = ("loss", "accuracy", "time")
TRAIN_FINAL = ("train-loss", "train-accuracy", "train-accuracy5", "train-cur_time", "train-all_time")
SET_FINAL = ("loss", "accuracy", "cur_time", "all_time")
CURVE_DTYPES = ("float32", "float64")


def curve_columns(eval_sets: Iterable[str]) -> list[str]:
    """Column names of ``curves.npy`` for a dataset with these evaluation sets."""
    return list(TRAIN_CURVES) + [f"{name}-{field}" for name in eval_sets for field in SET_CURVES]


def final_columns(eval_sets: Iterable[str]) -> list[str]:
    """Row names of ``final.npy``: train and per-set loss, accuracy, that epoch's time and the accumulated time."""
    return list(TRAIN_FINAL) + [f"{name}-{field}" for name in eval_sets for field in SET_FINAL]


def cost_columns(eval_sets: Iterable[str]) -> list[str]:
    """Row names of ``cost.npy``, the keys of the official ``get_cost_info`` (after flops, params, latency)."""
    times = ["T-train@epoch", "T-train@total"] + [f"T-{name}@{kind}" for name in eval_sets for kind in ("epoch", "total")]
    return ["flops", "params", "latency"] + times


@lru_cache(maxsize=256)
def _epoch_keys(name: str, epochs: int) -> tuple[str, ...]:
    return tuple(f"{name}@{epoch}" for epoch in range(epochs))


def _series(values: Any, keys: Iterable[Any]) -> list[Any]:
    if not isinstance(values, dict):
        return [None for _ in keys]
    return list(map(values.get, keys))


def _number(value: Any) -> float:
    return np.nan if value is None else float(value)


# ----------------------------------------------------------------------------------------------- layout
def scan_layout(source: BenchmarkSource) -> dict[str, dict]:
    """Epochs, seed slots, datasets and evaluation sets of every hp in ``source`` (one pass, no copies)."""
    layout: dict[str, dict] = {}
    for _, record in source.records():
        for hp, state in record.items():
            entry = layout.setdefault(hp, {"epochs": 0, "seed_slots": 0, "datasets": {}})
            for dataset, seeds in state["dataset_seed"].items():
                entry["seed_slots"] = max(entry["seed_slots"], len(seeds))
                info = entry["datasets"].setdefault(dataset, {"eval_sets": [], "rows": 0})
                info["rows"] += 1
                sets = info["eval_sets"]
                for seed in seeds:
                    run = state["all_results"][(dataset, seed)]
                    entry["epochs"] = max(entry["epochs"], int(run["epochs"]))
                    sets.extend(name for name in run.get("eval_names", []) if name not in sets)
    if not layout:
        raise BenchmarkError(f"{source.filename} holds no evaluated architecture; expected at least one record")
    return dict(sorted(layout.items(), key=lambda item: int(item[0]) if item[0].isdigit() else 0))


@dataclass
class _Block:
    """The arrays of one (architecture, hp, dataset)."""

    seeds: np.ndarray
    epochs: np.ndarray
    final: np.ndarray
    cost: np.ndarray
    curves: np.ndarray
    config: np.ndarray


def _total(values: list[Any]) -> Any:
    """The official accumulated time (``sum`` epoch by epoch), None where a time is missing."""
    return None if None in values else sum(values)


def _mean(values: list[Any]) -> Any:
    return None if not values or None in values else np.mean(values)


def _run_block(block: _Block, slot: int, run: dict, eval_sets: list[str]) -> None:
    """Fill one seed slot from one official ``ResultsCount`` state with the official formulas (spec 4.6).

    The sums and means are taken over the same Python floats in the same order as the official
    ``get_train``/``get_eval``/``get_times``, so the last-epoch and cost values are bit-identical.
    """
    epochs = int(run["epochs"])
    last = epochs - 1
    block.seeds[slot], block.epochs[slot] = int(run["seed"]), epochs
    steps = range(epochs)
    train_times = run.get("train_times")
    times = _series(train_times, steps)
    curves = [_series(run["train_losses"], steps), _series(run["train_acc1es"], steps),
              _series(run.get("train_acc5es"), steps), times]
    timed = train_times is not None
    final = [curves[0][last], curves[1][last], curves[2][last],
             times[last] if timed else None, _total(times) if timed else None]
    all_train_times = list(train_times.values()) if isinstance(train_times, dict) else []
    latency = run.get("latency")
    cost = [run["flop"], run["params"], -1.0 if latency is None else sum(latency) / len(latency),
            _mean(all_train_times), None if not all_train_times or None in all_train_times else np.sum(all_train_times)]
    eval_times = run.get("eval_times")
    eval_timed = isinstance(eval_times, dict) and len(eval_times) > 0
    for name in eval_sets:
        keys = _epoch_keys(name, epochs)
        losses, accuracies = _series(run.get("eval_losses"), keys), _series(run.get("eval_acc1es"), keys)
        set_times = _series(eval_times, keys)
        curves += [losses, accuracies, set_times]
        if name in run.get("eval_names", ()) and accuracies[last] is not None:
            final += [losses[last], accuracies[last], set_times[last] if eval_timed else None,
                      _total(set_times) if eval_timed else None]
        else:
            final += [None] * len(SET_FINAL)
        cost += [_mean(set_times), None if None in set_times else np.sum(set_times)]
    block.curves[slot, :epochs, :] = np.array(curves, dtype=np.float64).T
    block.final[:, slot] = [_number(value) for value in final]
    block.cost[:, slot] = [_number(value) for value in cost]


def _record_blocks(index: int, record: dict, layout: dict, curve_dtype: str) -> dict[tuple[str, str], _Block]:
    blocks = {}
    for hp, state in record.items():
        entry = layout[hp]
        slots, epochs = entry["seed_slots"], entry["epochs"]
        for dataset, seeds in state["dataset_seed"].items():
            eval_sets = entry["datasets"][dataset]["eval_sets"]
            block = _Block(np.full(slots, -1, np.int64), np.zeros(slots, np.int32),
                           np.full((len(final_columns(eval_sets)), slots), np.nan),
                           np.full((len(cost_columns(eval_sets)), slots), np.nan),
                           np.full((slots, epochs, len(curve_columns(eval_sets))), np.nan, dtype=curve_dtype),
                           np.full(3, -1, np.int32))
            for slot, seed in enumerate(sorted(seeds)):
                try:
                    run_state = state["all_results"][(dataset, seed)]
                    _run_block(block, slot, run_state, eval_sets)
                except (KeyError, TypeError, ValueError, IndexError) as error:
                    raise BenchmarkError(
                        f"record of architecture {index} (hp {hp}, {dataset}, seed {seed}) is malformed "
                        f"({type(error).__name__}: {error}); expected the official ResultsCount layout"
                    ) from None
            first = state["all_results"][(dataset, sorted(seeds)[0])]["arch_config"]
            block.config[:] = [first["channel"], first["num_cells"], first["class_num"]]
            blocks[(hp, dataset)] = block
    return blocks


# ------------------------------------------------------------------------------------------- building
class _RowStream:
    """Writes the rows of an ``[R, ...]`` array one after the other to a file."""

    def __init__(self, path: Path, shape: tuple[int, ...], dtype: str, npy_header: bool) -> None:
        self.path, self.shape, self.dtype, self.next_row = path, shape, np.dtype(dtype), 0
        path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = open(path, "wb")
        if npy_header:
            np.lib.format.write_array_header_1_0(
                self.handle, {"descr": self.dtype.str, "fortran_order": False, "shape": shape})

    def write(self, row: np.ndarray) -> None:
        self.handle.write(np.ascontiguousarray(row, dtype=self.dtype).tobytes())
        self.next_row += 1

    def close(self) -> None:
        self.handle.close()
        if self.next_row != self.shape[0]:
            raise BenchmarkError(f"{self.path} received {self.next_row} rows but the layout scan counted {self.shape[0]}; "
                                 "the source changed while it was converted, convert again")


class _Arrays:
    """Destination of the converted arrays: in memory, or streamed to files under a folder.

    Each (hp, dataset) gets one row per architecture that has a run there, in index order.  When
    streaming, only the per-row seeds/epochs/config (a few hundred KB) stay in memory: curves go straight
    into ``curves.npy`` and the last-epoch/cost rows into ``[R, S, rows]`` scratch files that are
    transposed into ``final.npy``/``cost.npy`` at the end.
    """

    def __init__(self, num_archs: int, layout: dict, curve_dtype: str, folder: Path | None) -> None:
        self.folder, self.num_archs = folder, num_archs
        self.small: dict[tuple[str, str], dict[str, np.ndarray]] = {}
        self.big: dict[tuple[str, str], dict[str, Any]] = {}
        self.archs: dict[tuple[str, str], list[int]] = {}
        for hp, entry in layout.items():
            slots, epochs = entry["seed_slots"], entry["epochs"]
            for dataset, info in entry["datasets"].items():
                sets, key, rows = info["eval_sets"], (hp, dataset), info["rows"]
                self.archs[key] = []
                self.small[key] = {"seeds": np.full((rows, slots), -1, np.int64),
                                   "epochs": np.zeros((rows, slots), np.int32),
                                   "config": np.full((rows, 3), -1, np.int32)}
                shapes = {"curves": ((rows, slots, epochs, len(curve_columns(sets))), curve_dtype),
                          "final": ((rows, slots, len(final_columns(sets))), "float64"),
                          "cost": ((rows, slots, len(cost_columns(sets))), "float64")}
                if folder is None:
                    self.big[key] = {name: np.full(shape, np.nan, dtype=dtype) for name, (shape, dtype) in shapes.items()}
                else:
                    sub = folder / _subdir(hp, dataset)
                    self.big[key] = {name: _RowStream(sub / (f"{name}.npy" if name == "curves" else f".{name}.rows"),
                                                      shape, dtype, name == "curves")
                                     for name, (shape, dtype) in shapes.items()}

    def put(self, index: int, blocks: dict[tuple[str, str], _Block]) -> None:
        for key, block in blocks.items():
            if key not in self.small:
                raise BenchmarkError(f"architecture {index} has results for {key[1]} with hp {key[0]}, which the layout scan did not see")
            small, position = self.small[key], len(self.archs[key])
            if position == len(small["seeds"]):
                raise BenchmarkError(f"architecture {index} adds a row to {key[1]} (hp {key[0]}) beyond the layout scan's count; "
                                     "the source changed while it was converted, convert again")
            self.archs[key].append(index)
            small["seeds"][position], small["epochs"][position], small["config"][position] = block.seeds, block.epochs, block.config
            rows = {"curves": block.curves, "final": block.final.T, "cost": block.cost.T}
            for name, row in rows.items():
                target = self.big[key][name]
                if isinstance(target, _RowStream):
                    target.write(row)
                else:
                    target[position] = row

    def array(self, key: tuple[str, str], name: str) -> np.ndarray:
        """An in-memory array in the store layout (``final``/``cost`` as ``[rows, R, S]``)."""
        if name == "archs":
            return np.array(self.archs[key], dtype=np.int64)
        if name in self.small[key]:
            return self.small[key][name]
        array = self.big[key][name]
        return array if name == "curves" else array.transpose(2, 0, 1)

    def finish(self) -> None:
        """Close the streamed files, transpose the last-epoch/cost rows and write the small arrays."""
        if self.folder is None:
            return
        for key, streams in self.big.items():
            sub = self.folder / _subdir(*key)
            for name, stream in streams.items():
                stream.close()
                if name != "curves":
                    rows = np.fromfile(stream.path, dtype=np.float64).reshape(stream.shape)
                    np.save(sub / f"{name}.npy", np.ascontiguousarray(rows.transpose(2, 0, 1)))
                    stream.path.unlink()
            for name, array in self.small[key].items():
                np.save(sub / f"{name}.npy", array)
            np.save(sub / "archs.npy", self.array(key, "archs"))


def _subdir(hp: str, dataset: str) -> str:
    return f"hp{hp}/{dataset}"


def _index_document(source: BenchmarkSource, layout: dict, curve_dtype: str) -> dict:
    return {"format": STORE_FORMAT, "version": STORE_VERSION, "source": source.filename,
            "curve_dtype": curve_dtype, "num_archs": len(source.meta_archs), "hps": layout,
            "meta_archs": list(source.meta_archs)}


def _fill(source: BenchmarkSource, arrays: _Arrays, layout: dict, curve_dtype: str,
          progress: Callable[[int], None] | None) -> np.ndarray:
    num_archs = len(source.meta_archs)
    for count, (index, record) in enumerate(source.records(consume=True)):
        if not 0 <= index < num_archs:
            raise BenchmarkError(f"record index {index} is outside 0..{num_archs - 1}; the file is inconsistent")
        arrays.put(index, _record_blocks(index, record, layout, curve_dtype))
        if progress is not None:
            progress(count + 1)
    evaluated = np.zeros(num_archs, dtype=bool)
    listed = np.asarray(source.evaluated, dtype=np.int64)
    if listed.size and (listed.min() < 0 or listed.max() >= num_archs):
        raise BenchmarkError(f"evaluated_indexes of {source.filename} leave 0..{num_archs - 1}; the file is inconsistent")
    evaluated[listed] = True
    return evaluated


def convert(source: BenchmarkSource | str | os.PathLike | dict, out_dir: str | os.PathLike, curve_dtype: str = "float32",
            overwrite: bool = False, progress: Callable[[int], None] | None = None) -> Path:
    """Convert an official benchmark (file, dict, NATS folder or :class:`BenchmarkSource`) into a store folder.

    Records are converted one at a time and the per-epoch curves are streamed to disk, so the memory
    needed is that of the loaded official file plus a few MB.  Returns the store folder.
    """
    require_one_of("curve dtype", curve_dtype, CURVE_DTYPES, BenchmarkError)
    out_dir = Path(out_dir)
    if out_dir.exists() and not overwrite:
        raise BenchmarkError(f"output {out_dir} already exists; remove it or choose another path")
    if isinstance(source, dict):
        source = BenchmarkSource.from_dict(source, copy_data=False)
    elif not isinstance(source, BenchmarkSource):
        source = BenchmarkSource.open(source)
    layout = scan_layout(source)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = make_temp_dir(out_dir.parent, out_dir.name)  # the mode of a new folder, not mkdtemp's 0700
    try:
        arrays = _Arrays(len(source.meta_archs), layout, curve_dtype, work)
        evaluated = _fill(source, arrays, layout, curve_dtype, progress)
        arrays.finish()
        np.save(work / "evaluated.npy", evaluated)
        (work / INDEX_FILE).write_text(json.dumps(_index_document(source, layout, curve_dtype)))
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(work, out_dir)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return out_dir


# -------------------------------------------------------------------------------------------- reading
_EXPAND = {"seeds": (0, -1), "epochs": (0, 0), "config": (0, -1), "final": (1, np.nan), "cost": (1, np.nan)}
"""How the per-row arrays become per-architecture ones: (axis of the rows, value of an architecture without a row)."""


class ArchRows:
    """A read-only ``[A, ...]`` array whose rows are stored for some architectures only: architecture ``i`` is
    row ``rows[i]`` of ``data`` (-1: no row, read as NaN).  Indexing with an architecture first reads one
    row (memory-mapped stores stay on disk); any other use materialises the whole array."""

    def __init__(self, data: np.ndarray, rows: np.ndarray) -> None:
        self.data, self.rows = data, rows
        self.shape = (len(rows),) + data.shape[1:]
        self.dtype, self.ndim = data.dtype, data.ndim

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: Any) -> Any:
        first, rest = (key[0], key[1:]) if isinstance(key, tuple) else (key, ())
        if isinstance(first, (int, np.integer)) and not isinstance(first, bool) and Ellipsis not in rest:
            row = int(self.rows[first])
            if row < 0:
                return np.full(self.shape[1:], np.nan, dtype=self.dtype)[rest]
            return self.data[(row,) + rest]
        return np.asarray(self)[key]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        dense = np.full(self.shape, np.nan, dtype=self.dtype)
        present = self.rows >= 0
        dense[present] = self.data[self.rows[present]]
        return dense if dtype is None else dense.astype(dtype)


class DatasetTable:
    """The arrays of one (hp, dataset), indexed by architecture, with the column position of every metric name.

    ``num_archs`` set: the loader gives per-row arrays plus ``archs`` (version 2); None: per-architecture ones."""

    def __init__(self, hp: str, dataset: str, info: dict, epochs: int, loader: Callable[[str], np.ndarray],
                 num_archs: int | None = None) -> None:
        self.hp, self.dataset, self.epochs, self.num_archs = hp, dataset, epochs, num_archs
        self.eval_sets: list[str] = list(info["eval_sets"])
        self.final_index = {name: i for i, name in enumerate(final_columns(self.eval_sets))}
        self.cost_names = cost_columns(self.eval_sets)
        self.curve_index = {name: i for i, name in enumerate(curve_columns(self.eval_sets))}
        self._loader = loader
        self._cache: dict[str, Any] = {}

    def _array(self, name: str) -> Any:
        array = self._cache.get(name)
        if array is None:
            array = self._loader(name)
            if self.num_archs is not None:
                array = self._by_architecture(name, array)
            self._cache[name] = array
        return array

    def _by_architecture(self, name: str, array: np.ndarray) -> Any:
        rows = self.memo("rows", self._row_map)
        if name == "curves":
            return ArchRows(array, rows)
        axis, empty = _EXPAND[name]
        archs = self._loader("archs")
        shape = list(array.shape)
        shape[axis] = self.num_archs
        dense = np.full(shape, empty, dtype=array.dtype)
        dense[(slice(None),) * axis + (archs,)] = array
        return dense

    def _row_map(self) -> np.ndarray:
        rows = np.full(self.num_archs, -1, dtype=np.int64)
        archs = self._loader("archs")
        rows[archs] = np.arange(len(archs))
        return rows

    @property
    def seeds(self) -> np.ndarray:
        return self._array("seeds")

    @property
    def run_epochs(self) -> np.ndarray:
        return self._array("epochs")

    @property
    def final(self) -> np.ndarray:
        return self._array("final")

    @property
    def cost(self) -> np.ndarray:
        return self._array("cost")

    @property
    def curves(self) -> np.ndarray | ArchRows:
        """``[A, S, E, C]``; on a version-2 store an :class:`ArchRows` (index it by architecture first)."""
        return self._array("curves")

    @property
    def config(self) -> np.ndarray:
        return self._array("config")

    def memo(self, key: str, build: Callable[[], Any]) -> Any:
        """``build()`` once per table and key (for query plans derived from the column layout)."""
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    def seed_list(self, index: int) -> list[int]:
        """The ascending seeds run for architecture ``index`` (empty when it has none here)."""
        return self.seed_lists[index]

    @property
    def seed_lists(self) -> list[list[int]]:
        """Per architecture, its run seeds as a Python list (built once; queries then need no NumPy call)."""
        cached = self._cache.get("seed_lists")
        if cached is None:
            cached = self._cache["seed_lists"] = [[seed for seed in row if seed >= 0] for row in self.seeds.tolist()]
        return cached  # type: ignore[return-value]

    @property
    def epoch_lists(self) -> list[list[int]]:
        """Per architecture, the epoch count of each run as a Python list."""
        cached = self._cache.get("epoch_lists")
        if cached is None:
            cached = self._cache["epoch_lists"] = [row[: len(seeds)] for row, seeds in
                                                   zip(self.run_epochs.tolist(), self.seed_lists)]
        return cached  # type: ignore[return-value]

    def seed_mean(self, name: str) -> np.ndarray:
        """``final`` or ``cost`` averaged over each architecture's runs: shape [rows, A], NaN where none.

        Summing the seed slots in order and dividing by the run count is exactly ``np.mean`` of the runs.
        """
        key = f"mean-{name}"
        cached = self._cache.get(key)
        if cached is None:
            valid = self.seeds >= 0
            counts = valid.sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                cached = np.where(valid[None], self._array(name), 0.0).sum(axis=2) / counts
            cached.setflags(write=False)
            self._cache[key] = cached
        return cached

    def arch_major(self, name: str) -> np.ndarray:
        """``final``/``cost`` as an in-memory ``[A, S, rows]`` copy and its seed mean as ``[A, rows]``
        (``name`` + ``'-mean'``): one architecture's values then sit in one cache line, not one page per row."""
        def build() -> np.ndarray:
            if name.endswith("-mean"):
                return np.ascontiguousarray(self.seed_mean(name[: -len("-mean")]).T)
            return np.ascontiguousarray(np.moveaxis(self._array(name), 0, -1))

        return self.memo(f"arch-major-{name}", build)

    def seed_mean_row(self, name: str, row: int) -> np.ndarray:
        """One row of :meth:`seed_mean` (computed alone, so a single metric for all architectures stays cheap)."""
        full = self._cache.get(f"mean-{name}")
        if full is not None:
            return full[row]
        key = f"mean-{name}-{row}"
        cached = self._cache.get(key)
        if cached is None:
            valid = self.seeds >= 0
            with np.errstate(invalid="ignore", divide="ignore"):
                cached = np.where(valid, self._array(name)[row], 0.0).sum(axis=1) / valid.sum(axis=1)
            cached.setflags(write=False)
            self._cache[key] = cached
        return cached


class Store:
    """A converted benchmark: memory-mapped arrays (from a folder) or in-memory ones (built from a source)."""

    def __init__(self, index: dict, loader: Callable[[str, str, str], np.ndarray], evaluated: np.ndarray,
                 location: str) -> None:
        self.index, self.location = index, location
        self.meta_archs: list[str] = index["meta_archs"]
        self.filename: str = index.get("source", location)
        self.curve_dtype: str = index.get("curve_dtype", "float32")
        self.evaluated = evaluated
        self.evaluated_indexes: list[int] = np.flatnonzero(evaluated).tolist()
        self.hps: list[str] = list(index["hps"])
        self._tables: dict[tuple[str, str], DatasetTable] = {}
        for hp, entry in index["hps"].items():
            for dataset, info in entry["datasets"].items():
                self._tables[(hp, dataset)] = DatasetTable(
                    hp, dataset, info, entry["epochs"], lambda name, h=hp, d=dataset: loader(h, d, name),
                    None if index.get("version", STORE_VERSION) == 1 else len(self.meta_archs))

    @classmethod
    def open(cls, folder: str | os.PathLike) -> "Store":
        """Open a store folder written by :func:`convert` (arrays are memory-mapped on first use)."""
        folder = Path(folder)
        index_path = folder / INDEX_FILE
        if not index_path.is_file():
            raise BenchmarkError(f"{folder} is not a NAS-Bench-201 store (no {INDEX_FILE}); convert the official file with exps/NAS-Bench-201/convert.py")
        try:
            index = json.loads(index_path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise BenchmarkError(f"{index_path} is not valid JSON ({error}); the store is corrupt, convert again") from None
        if not isinstance(index, dict) or index.get("format") != STORE_FORMAT or index.get("version") not in READABLE_VERSIONS:
            raise BenchmarkError(
                f"{index_path} is not a version-{STORE_VERSION} {STORE_FORMAT} index; convert the official file again with this version"
            )

        def load(hp: str, dataset: str, name: str) -> np.ndarray:
            path = folder / _subdir(hp, dataset) / f"{name}.npy"
            if not path.is_file():
                raise BenchmarkError(f"store file {path} is missing; the store is incomplete, convert again")
            return np.load(path, mmap_mode="r").view(np.ndarray)

        evaluated_path = folder / "evaluated.npy"
        if not evaluated_path.is_file():
            raise BenchmarkError(f"store file {evaluated_path} is missing; the store is incomplete, convert again")
        return cls(index, load, np.load(evaluated_path), str(folder))

    @classmethod
    def from_source(cls, source: BenchmarkSource, curve_dtype: str = "float64") -> "Store":
        """Build an in-memory store from an official source (float64 curves by default: exact)."""
        require_one_of("curve dtype", curve_dtype, CURVE_DTYPES, BenchmarkError)
        layout = scan_layout(source)
        arrays = _Arrays(len(source.meta_archs), layout, curve_dtype, None)
        evaluated = _fill(source, arrays, layout, curve_dtype, None)
        index = _index_document(source, layout, curve_dtype)

        def load(hp: str, dataset: str, name: str) -> np.ndarray:
            return arrays.array((hp, dataset), name)

        return cls(index, load, evaluated, source.filename)

    def __len__(self) -> int:
        return len(self.meta_archs)

    def epochs(self, hp: str) -> int:
        self.check_hp(hp)
        return int(self.index["hps"][hp]["epochs"])

    def datasets(self, hp: str) -> list[str]:
        self.check_hp(hp)
        return list(self.index["hps"][hp]["datasets"])

    def check_hp(self, hp: str) -> None:
        if hp not in self.index["hps"]:
            raise BenchmarkError(f"unknown hp {hp!r}; this benchmark has {', '.join(map(repr, self.hps))} (training epochs)")

    def table(self, hp: str, dataset: str) -> DatasetTable:
        """The arrays of ``(hp, dataset)``; raises a clear error for an unknown hp or dataset."""
        table = self._tables.get((hp, dataset))
        if table is None:
            self.check_hp(hp)
            require_one_of("dataset", dataset, self.datasets(hp), BenchmarkError)
        return table  # type: ignore[return-value]

    def run_datasets(self, index: int, hp: str) -> list[str]:
        """The datasets with at least one run of architecture ``index`` under ``hp``, in file order."""
        return [name for name in self.datasets(hp) if self.table(hp, name).seeds[index, 0] >= 0]
