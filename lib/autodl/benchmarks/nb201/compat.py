"""``NASBench201API``: a drop-in replacement for the official ``nas_201_api.NASBench201API`` (pip v2.1).

Same constructor, method names, arguments and return values; it also accepts the v1 keyword
``use_12epochs_result`` (and a bool in the ``hp`` position) so older scripts run unchanged.
It opens the official ``.pth`` files, NATS-Bench topology files and dicts (held as
``ArchResults`` objects, exactly like the official API) and our converted store (memory-mapped;
queries are answered from arrays with the same formulas, and ``ArchResults`` objects are built
only when a method returns one).  Differences: bad input raises :class:`BenchmarkError` (a
``ValueError``, as before) with one clear sentence, ``statistics`` counts architectures without a
record as 0 trials instead of failing, and ``verbose`` only announces loading.
"""
from __future__ import annotations

import copy
import os
import random
from collections import OrderedDict, defaultdict
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from ...errors import require_one_of
from .common import (DOWNLOAD_HINT, OFFICIAL_ARCHIVE_DIR, REPORTING, SETTINGS, SIMULATE_DATASETS, BenchmarkError,
                     arch_to_string, default_benchmark_path, remap_dataset_set_names, resolve_hp,
                     set_layout, split_choices, torch_home)
from .readers import NATS_SUFFIX, BenchmarkSource, load_archive_record
from .records import ArchResults, ResultsCount, print_information
from .store import INDEX_FILE, DatasetTable, Store

OP_NAMES = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")

def _hp(hp: Any, use_12epochs_result: bool | None, default: str = "12") -> str:
    if isinstance(hp, bool):  # a v1 call passing use_12epochs_result positionally
        hp, use_12epochs_result = None, hp
    return resolve_hp(hp, use_12epochs_result, default)


def _value(number: float) -> float | None:
    return None if number != number else number


class NASBench201API:
    """The NAS-Bench-201 query API (official method names and return values); see the module docstring."""

    def __init__(self, file_path_or_dict: str | os.PathLike | dict | Store | None = None, verbose: bool = True) -> None:
        self.filename: str | None = None
        self.verbose = verbose
        self._used_time = 0
        self._store: Store | None = None
        self.arch2infos_dict: "OrderedDict[int, OrderedDict[str, ArchResults]]" = OrderedDict()
        if file_path_or_dict is None:
            file_path_or_dict = default_benchmark_path()
            if verbose:
                print(f"Try to use the default NAS-Bench-201 path from {file_path_or_dict}.")
        if isinstance(file_path_or_dict, (str, os.PathLike)):
            path = Path(file_path_or_dict)
            if verbose:
                print(f"try to create the NAS-Bench-201 api from {path}")
            if not path.exists():
                raise BenchmarkError(f"benchmark {path} does not exist; {DOWNLOAD_HINT}")
            self.filename = path.name
            if path.is_dir() and (path / INDEX_FILE).is_file():
                self._store = Store.open(path)
            else:
                self._load_source(BenchmarkSource.open(path))
        elif isinstance(file_path_or_dict, Store):
            self._store, self.filename = file_path_or_dict, file_path_or_dict.filename
        elif isinstance(file_path_or_dict, dict):
            self._load_source(BenchmarkSource.from_dict(file_path_or_dict))
        else:
            raise BenchmarkError(
                f"cannot open a benchmark from {type(file_path_or_dict).__name__}; pass a file or store path, a dict or None"
            )
        if self._store is not None:
            self.meta_archs: list[str] = self._store.meta_archs
            self.evaluated_indexes: list[int] = list(self._store.evaluated_indexes)
            self._avaliable_hps = set(self._store.hps)
        self.archstr2index: dict[str, int] = {}
        for index, arch in enumerate(self.meta_archs):
            if arch in self.archstr2index:
                raise BenchmarkError(f"architecture {arch} appears twice (indexes {self.archstr2index[arch]} and {index}); the file is corrupt")
            self.archstr2index[arch] = index

    def _load_source(self, source: BenchmarkSource) -> None:
        self.meta_archs = list(source.meta_archs)
        self._avaliable_hps = set()
        for index, record in source.records(consume=True):
            self.arch2infos_dict[index] = OrderedDict(
                (hp, ArchResults.create_from_state_dict(state)) for hp, state in record.items())
            self._avaliable_hps.update(record)
        self.evaluated_indexes = sorted(source.evaluated)

    # ------------------------------------------------------------------------------------ basics
    def __getitem__(self, index: int) -> str:
        return copy.deepcopy(self.meta_archs[index])

    def __len__(self) -> int:
        return len(self.meta_archs)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self.meta_archs))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self.evaluated_indexes)}/{len(self.meta_archs)} architectures, file={self.filename})"

    @property
    def avaliable_hps(self) -> list[str]:  # official spelling
        return sorted(self._avaliable_hps, key=int)

    available_hps = avaliable_hps

    @property
    def used_time(self) -> float:
        return self._used_time

    def reset_time(self) -> None:
        self._used_time = 0

    def random(self) -> int:
        """A random architecture index (Python's ``random`` module, as the official API)."""
        return random.randint(0, len(self.meta_archs) - 1)

    def arch(self, index: int) -> str:
        """The architecture string of ``index``."""
        self._check_index(index)
        return copy.deepcopy(self.meta_archs[index])

    def _check_index(self, index: Any) -> int:
        if isinstance(index, (int, np.integer)) and not isinstance(index, bool) and 0 <= index < len(self.meta_archs):
            return int(index)
        raise BenchmarkError(f"architecture index {index!r} is invalid; expected an int in 0..{len(self.meta_archs) - 1}")

    def query_index_by_arch(self, arch: Any) -> int:
        """Index of ``arch`` (index, string or object with ``tostr()``/``__str__``), or -1 if not in the space."""
        if isinstance(arch, (int, np.integer)) and not isinstance(arch, bool):
            return self._check_index(arch)
        text = arch_to_string(arch)
        return self.archstr2index.get(text, -1) if text is not None else -1

    # -------------------------------------------------------------------------- record access
    def _has_hp(self, hp: str) -> None:
        if hp not in self._avaliable_hps:
            raise BenchmarkError(f"unknown hp {hp!r}; this benchmark has {', '.join(map(repr, self.avaliable_hps))} (training epochs)")

    def _arch_results(self, index: int, hp: str) -> ArchResults | None:
        """The ``ArchResults`` of ``(index, hp)`` (built from the store when needed), None when not evaluated."""
        self._has_hp(hp)
        if index in self.arch2infos_dict:
            record = self.arch2infos_dict[index]
            if hp not in record:
                raise BenchmarkError(f"architecture {index} only has hp {list(record)}, not {hp!r}")
            return record[hp]
        if self._store is not None and 0 <= index < len(self.meta_archs) and self._store.run_datasets(index, hp):
            return _materialise(self._store, index, hp)
        return None

    def _require(self, index: int, hp: str) -> ArchResults:
        result = self._arch_results(self._check_index(index), hp)
        if result is None:
            raise BenchmarkError(f"architecture {index} has no {hp}-epoch results in {self.filename}; choose an evaluated architecture")
        return result

    def query_info_str_by_arch(self, arch: Any, hp: Any = "12") -> str | None:
        """The official multi-line summary of ``arch`` under ``hp`` (None, with a message, when not evaluated)."""
        hp = _hp(hp, None)
        index = self.query_index_by_arch(arch)
        info = self._arch_results(index, hp) if index >= 0 else None
        if info is None:
            print(f"Find this arch-index : {index}, but this arch is not evaluated.")
            return None
        return "\n".join(print_information(info, f"arch-index={index}"))

    def query_by_arch(self, arch: Any, hp: Any = None, use_12epochs_result: bool | None = None) -> str | None:
        """Alias of ``query_info_str_by_arch``; without ``hp`` it reports the 200-epoch record (v1 default)."""
        return self.query_info_str_by_arch(arch, _hp(hp, use_12epochs_result, "200"))

    def query_meta_info_by_index(self, arch_index: int, hp: Any = "12", use_12epochs_result: bool | None = None) -> ArchResults:
        """A copy of the ``ArchResults`` of ``arch_index`` under ``hp``."""
        return copy.deepcopy(self._require(arch_index, _hp(hp, use_12epochs_result)))

    def query_by_index(self, arch_index: int, dataname: str | None = None, hp: Any = "12",
                       use_12epochs_result: bool | None = None) -> Any:
        """The ``ArchResults`` (``dataname`` None) or a dict seed -> ``ResultsCount`` for one dataset."""
        info = self.query_meta_info_by_index(arch_index, hp, use_12epochs_result)
        if dataname is None:
            return info
        require_one_of("dataset", dataname, info.get_dataset_names(), BenchmarkError)
        return info.query(dataname)

    # ------------------------------------------------------------------------------ metrics
    def get_more_info(self, index: Any, dataset: str, iepoch: int | None = None, hp: Any = "12",
                      is_random: bool | int = True, use_12epochs_result: bool | None = None) -> dict[str, Any]:
        """Train/valid/test loss, accuracy and times (per epoch and accumulated) after epoch ``iepoch``.

        ``is_random``: True = one random seed (Python ``random``), False = mean over seeds, int = that seed.
        """
        if type(hp) is str and use_12epochs_result is None and type(index) is int and self._store is not None \
                and index not in self.arch2infos_dict:  # the hot path: straight to the arrays
            table = self._store._tables.get((hp, dataset))
            if table is not None and 0 <= index < len(self.meta_archs):
                return _store_more_info(table, index, iepoch, is_random)
        hp = _hp(hp, use_12epochs_result)
        index = self.query_index_by_arch(index)
        if index < 0:
            raise BenchmarkError(f"architecture {index} is not in the benchmark {self.filename}; pass an index or a valid architecture string")
        if index not in self.arch2infos_dict and self._store is not None:
            self._has_hp(hp)
            return _store_more_info(self._store.table(hp, dataset), index, iepoch, is_random)
        archresult = self._require(index, hp)
        if isinstance(is_random, bool) and is_random:
            is_random = random.choice(archresult.get_dataset_seeds(dataset))
        train = archresult.get_metrics(dataset, "train", iepoch=iepoch, is_random=is_random)
        total = train["iepoch"] + 1
        info = _timed("train", train, total)
        layout = set_layout(dataset)
        for prefix, setname in layout.sets:
            try:
                metrics = archresult.get_metrics(dataset, setname, iepoch=iepoch, is_random=is_random)
            except (BenchmarkError, KeyError):
                if prefix == layout.required:
                    raise
                continue
            info.update(_timed(prefix, metrics, total))
        return info

    def get_cost_info(self, index: int, dataset: str, hp: Any = "12", use_12epochs_result: bool | None = None) -> dict[str, Any]:
        """FLOPs (M), params (M), latency (s) and train/eval times of ``dataset``, averaged over seeds."""
        hp = _hp(hp, use_12epochs_result)
        index = self._check_index(index)
        if index not in self.arch2infos_dict and self._store is not None:
            self._has_hp(hp)
            return _store_cost_info(self._store.table(hp, dataset), index)
        return self._require(index, hp).get_compute_costs(dataset)

    def get_latency(self, index: int, dataset: str, hp: Any = "12", use_12epochs_result: bool | None = None) -> float | None:
        """Seconds per batch of 256 (mean over the runs that recorded one)."""
        return self.get_cost_info(index, dataset, hp, use_12epochs_result)["latency"]

    def simulate_train_eval(self, arch: Any, dataset: str, iepoch: int | None = None, hp: Any = "12",
                            account_time: bool = True) -> tuple[Any, Any, Any, float]:
        """(valid accuracy, latency, time cost, accumulated time) of "training" ``arch`` once (one random seed).

        The valid accuracy is that of the dataset's search split (``REPORTING``: ``cifar10`` reads the
        ``cifar10-valid`` record, ``digits`` the ``digits-valid`` one); the cost is the train time plus one
        validation pass.
        """
        index = self.query_index_by_arch(arch)
        require_one_of("dataset", dataset, SIMULATE_DATASETS, BenchmarkError)
        info = self.get_more_info(index, REPORTING[dataset].valid[0], iepoch=iepoch, hp=hp, is_random=True)
        if info["train-all-time"] is None or info["valid-per-time"] is None:
            raise BenchmarkError(f"{self.filename} records no training times (a v1_0 file); use NAS-Bench-201-v1_1-096897.pth")
        valid_acc, time_cost = info["valid-accuracy"], info["train-all-time"] + info["valid-per-time"]
        latency = self.get_latency(index, dataset)
        if account_time:
            self._used_time += time_cost
        return valid_acc, latency, time_cost, self._used_time

    def find_best(self, dataset: str, metric_on_set: str, FLOP_max: float | None = None,  # noqa: N803 (official)
                  Param_max: float | None = None, hp: Any = "12",  # noqa: N803
                  use_12epochs_result: bool | None = None) -> tuple[int, Any]:
        """(index, seed-averaged accuracy) of the best evaluated architecture under optional FLOP/param caps."""
        hp = _hp(hp, use_12epochs_result)
        self._has_hp(hp)
        named = dataset, metric_on_set
        dataset, setname = remap_dataset_set_names(dataset, metric_on_set)
        candidates: list[tuple[int, Any]] = []
        objects = [i for i in self.evaluated_indexes if i in self.arch2infos_dict]
        if self._store is not None:
            if dataset != named[0] and dataset not in self._store.datasets(hp):
                raise BenchmarkError(f"set {metric_on_set!r} of {named[0]} is recorded on {dataset}, which this benchmark "
                                     f"does not have for hp {hp}; it has {', '.join(self._store.datasets(hp))}")
            table = self._store.table(hp, dataset)
            mask = self._store.evaluated.copy()
            mask[list(self.arch2infos_dict)] = False
            best = _store_find_best(table, setname, mask, FLOP_max, Param_max, named)
            if best[0] >= 0:
                candidates.append(best)
        for index in objects:
            record = self.arch2infos_dict[index][hp]
            accuracy = record.get_metrics(dataset, setname)["accuracy"]  # an unknown set fails even when all are capped
            costs = record.get_compute_costs(dataset)
            if (FLOP_max is not None and costs["flops"] > FLOP_max) or (Param_max is not None and costs["params"] > Param_max):
                continue
            candidates.append((index, accuracy))
        best_index, best_accuracy = -1, None
        for index, accuracy in sorted(candidates):
            if best_index == -1 or best_accuracy < accuracy:
                best_index, best_accuracy = index, accuracy
        return best_index, best_accuracy

    def statistics(self, dataset: str, hp: Any, use_12epochs_result: bool | None = None) -> dict[int, int]:
        """Histogram {number of trials: number of architectures} of ``dataset`` under ``hp``."""
        hp = _hp(hp, use_12epochs_result)
        self._has_hp(hp)
        require_one_of("dataset", dataset, SETTINGS, BenchmarkError)
        counts = np.zeros(len(self), dtype=np.int64)
        if self._store is not None and dataset in self._store.datasets(hp):
            counts = (self._store.table(hp, dataset).seeds >= 0).sum(axis=1)
        for index, record in self.arch2infos_dict.items():
            counts[index] = len(record[hp].dataset_seed.get(dataset, [])) if hp in record else 0
        nums: dict[int, int] = defaultdict(int)
        for value in counts.tolist():
            nums[value] += 1
        return dict(nums)

    # --------------------------------------------------------------------- configs and weights
    def get_net_config(self, index: int, dataset: str) -> dict[str, Any]:
        """``{'name': 'infer.tiny', 'C', 'N', 'arch_str', 'num_classes'}`` of architecture ``index`` on ``dataset``."""
        index = self._check_index(index)
        if index in self.arch2infos_dict:
            records = [r for r in self.arch2infos_dict[index].values() if dataset in r.dataset_seed]
            if not records:
                raise BenchmarkError(f"architecture {index} has no run on {dataset}; choose an evaluated architecture")
            return next(iter(records[0].query(dataset, None).values())).get_config(None)
        hp = next((hp for hp in self.avaliable_hps if dataset in self._store.datasets(hp)), None) if self._store else None
        if hp is None:
            raise BenchmarkError(f"architecture {index} has no record in {self.filename}; choose an evaluated architecture")
        channel, num_cells, classes = self._store.table(hp, dataset).config[index].tolist()  # type: ignore[union-attr]
        if channel < 0:
            raise BenchmarkError(f"architecture {index} has no run on {dataset}; choose an evaluated architecture")
        return {"name": "infer.tiny", "C": channel, "N": num_cells, "arch_str": self.meta_archs[index], "num_classes": classes}

    def get_net_param(self, index: int, dataset: str, seed: int | None, hp: Any = "12",
                      use_12epochs_result: bool | None = None) -> Any:
        """Trained weights (None where the file holds none; seed None -> dict seed -> weights)."""
        return self.query_meta_info_by_index(index, hp, use_12epochs_result).get_net_param(dataset, seed)

    def reload(self, archive_root: str | os.PathLike | None = None, index: int | None = None) -> None:
        """Replace the records of ``index`` (None: every architecture) by its per-architecture archive file."""
        root = Path(archive_root) if archive_root is not None else torch_home() / OFFICIAL_ARCHIVE_DIR
        if not root.is_dir():
            raise BenchmarkError(f"archive folder {root} does not exist; extract the NAS-Bench-201 archive there or pass archive_root")
        for idx in range(len(self)) if index is None else [self._check_index(index)]:
            candidates = [root / f"{idx:06d}-FULL.pth", root / f"{idx:06d}{NATS_SUFFIX}", root / f"{idx}-FULL.pth"]
            path = next((p for p in candidates if p.is_file()), None)
            if path is None:
                raise BenchmarkError(f"archive file {candidates[0]} does not exist; extract the full archive into {root}")
            record = load_archive_record(path)
            self.arch2infos_dict.pop(idx, None)
            self.arch2infos_dict[idx] = OrderedDict((hp, ArchResults.create_from_state_dict(s)) for hp, s in record.items())
            self._avaliable_hps.update(record)
            if idx not in self.evaluated_indexes:
                self.evaluated_indexes = sorted(self.evaluated_indexes + [idx])

    def clear_params(self, index: int, hp: Any = None, use_12epochs_result: bool | None = None) -> None:
        """Drop stored weights of ``index``: hp None = every recipe (records from the store hold none)."""
        if isinstance(hp, bool):
            hp, use_12epochs_result = None, hp
        if hp is None and use_12epochs_result is None:
            for record in self.arch2infos_dict.get(index, {}).values():
                record.clear_params()
            return
        hp = _hp(hp, use_12epochs_result)
        self._has_hp(hp)
        if index in self.arch2infos_dict and hp in self.arch2infos_dict[index]:
            self.arch2infos_dict[index][hp].clear_params()

    def show(self, index: int = -1) -> None:
        """Print the summary of one architecture (or of all evaluated ones when ``index`` < 0)."""
        indexes = self.evaluated_indexes if index < 0 else [index]
        if index < 0:
            print(self)
        elif index >= len(self.meta_archs):
            print(f"This index ({index}) is out of range (0~{len(self.meta_archs)}).")
            return
        for position, idx in enumerate(indexes):
            if index < 0:
                print("\n" + "-" * 10 + f" The ({position:5d}/{len(indexes):5d}) {idx:06d}-th architecture! " + "-" * 10)
                print(f"arch : {self.meta_archs[idx]}")
            records = [self._arch_results(idx, hp) for hp in self.avaliable_hps]
            if all(record is None for record in records):
                print(f"The {idx}-th architecture has not been evaluated or not saved.")
                continue
            for record in records:
                if record is not None:
                    print(">" * 40 + f" {record.get_total_epoch():03d} epochs " + ">" * 40)
                    print("\n".join(print_information(record)))
            print("<" * 40 + "------------" + "<" * 40)

    @staticmethod
    def str2lists(arch_str: str) -> list[tuple[tuple[str, int], ...]]:
        """``'|op~0|+|op~0|op~1|...'`` -> one tuple of ``(op, input node)`` pairs per node."""
        nodes = []
        for node in arch_str.split("+"):
            edges = [edge for edge in node.split("|") if edge]
            if any(len(edge.split("~")) != 2 for edge in edges):
                raise BenchmarkError(f"architecture string {arch_str!r} is malformed; expected '|op~input|' edges joined by '+'")
            nodes.append(tuple((op, int(source)) for op, source in (edge.split("~") for edge in edges)))
        return nodes

    @staticmethod
    def str2matrix(arch_str: str, search_space: Sequence[str] = OP_NAMES) -> np.ndarray:
        """The NAS-Bench-101-style lower-triangular op matrix (two edges between the same nodes collide)."""
        nodes = NASBench201API.str2lists(arch_str)
        matrix = np.zeros((len(nodes) + 1, len(nodes) + 1))
        for target, edges in enumerate(nodes, start=1):
            for op, source in edges:
                require_one_of("op", op, search_space, BenchmarkError)
                matrix[target, source] = search_space.index(op)
        return matrix


# ------------------------------------------------------------------------------------ store paths
def _timed(prefix: str, metrics: dict, total: Any) -> dict[str, Any]:
    all_time = metrics["all_time"]
    return {f"{prefix}-loss": metrics["loss"], f"{prefix}-accuracy": metrics["accuracy"],
            f"{prefix}-per-time": all_time / total if all_time is not None else None, f"{prefix}-all-time": all_time}


def _slots(table: DatasetTable, index: int, is_random: bool | int) -> list[int]:
    seeds = table.seed_lists[index]
    if not seeds:
        raise BenchmarkError(f"architecture {index} has no {table.hp}-epoch run on {table.dataset}; choose an evaluated architecture")
    if is_random is True:
        return [seeds.index(random.choice(seeds))]
    if is_random is False:
        return list(range(len(seeds)))
    if isinstance(is_random, (int, np.integer)) and not isinstance(is_random, bool):
        if is_random not in seeds:
            raise BenchmarkError(f"seed {is_random} was not run on {table.dataset}; expected one of {seeds}")
        return [seeds.index(is_random)]
    raise BenchmarkError(f"is_random={is_random!r} is invalid; expected True, False or a seed (int)")


def _epoch_rows(table: DatasetTable, index: int, slots: list[int], iepoch: int | None) -> tuple[list[float], Any]:
    """Values of the ``final.npy`` rows (averaged over ``slots``) after epoch ``iepoch``, and the epoch count."""
    epochs = table.epoch_lists[index]
    if iepoch is None:
        if len(slots) == 1:
            return table.arch_major("final")[index, slots[0]].tolist(), epochs[slots[0]]
        return table.arch_major("final-mean")[index].tolist(), sum(epochs) / len(epochs)
    if not all(0 <= iepoch < epochs[slot] for slot in slots):
        raise BenchmarkError(f"epoch {iepoch} is out of range; expected 0..{min(epochs) - 1} (0-based) or None for the last")
    rows = []
    columns = table.curve_index
    for slot in slots:
        curve = table.curves[index, slot, : iepoch + 1].astype(np.float64)
        row = [curve[-1, columns["train-loss"]], curve[-1, columns["train-accuracy"]],
               curve[-1, columns["train-accuracy5"]], curve[-1, columns["train-time"]],
               sum(curve[:, columns["train-time"]].tolist())]  # a Python sum, in the official order
        for name in table.eval_sets:
            times = curve[:, columns[f"{name}-time"]]
            row += [curve[-1, columns[f"{name}-loss"]], curve[-1, columns[f"{name}-accuracy"]], times[-1], sum(times.tolist())]
        rows.append(row)
    values = np.array(rows)
    return (values[0] if len(slots) == 1 else values.mean(axis=0)).tolist(), iepoch + 1


_PLANS: dict[int, tuple[DatasetTable, list[tuple[str, int | None, str | None]]]] = {}


def _more_info_plan(table: DatasetTable) -> list[tuple[str, int | None, str | None]]:
    """(key prefix, first ``final.npy`` row of its set, the set's name when the layout requires it) in the
    official key order of ``get_more_info``."""
    plan = _PLANS.get(id(table))
    if plan is None or plan[0] is not table:
        layout = set_layout(table.dataset)
        plan = _PLANS[id(table)] = (table, [(prefix, table.final_index.get(f"{name}-loss"),
                                             name if prefix == layout.required else None)
                                            for prefix, name in layout.sets])
    return plan[1]


def _store_more_info(table: DatasetTable, index: int, iepoch: int | None, is_random: bool | int) -> dict[str, Any]:
    values, total = _epoch_rows(table, index, _slots(table, index, is_random), iepoch)
    all_time = values[4]
    all_time = None if all_time != all_time else all_time
    info = {"train-loss": values[0], "train-accuracy": values[1],
            "train-per-time": all_time / total if all_time is not None else None, "train-all-time": all_time}
    for prefix, start, required in _more_info_plan(table):
        if start is None or values[start + 1] != values[start + 1]:
            if required is not None:
                raise BenchmarkError(f"architecture {index} has no {required} result on {table.dataset}; the store is incomplete")
            continue
        loss, accuracy, _, set_time = values[start: start + 4]
        if set_time != set_time:
            info.update({prefix + "-loss": loss, prefix + "-accuracy": accuracy, prefix + "-per-time": None,
                         prefix + "-all-time": None})
        else:
            info.update({prefix + "-loss": loss, prefix + "-accuracy": accuracy, prefix + "-per-time": set_time / total,
                         prefix + "-all-time": set_time})
    return info


def _store_cost_info(table: DatasetTable, index: int) -> dict[str, Any]:
    count = len(_slots(table, index, False))
    means = table.arch_major("cost-mean")[index].tolist()
    latencies = [value for value in table.arch_major("cost")[index, :count, 2].tolist() if value > 0]
    info: dict[str, Any] = {"flops": means[0], "params": means[1], "latency": np.mean(latencies) if latencies else None}
    for name, value in zip(table.cost_names[3:], means[3:]):
        info[name] = None if value != value else value
    return info


def _unknown_set(table: DatasetTable, named: tuple[str, str]) -> BenchmarkError:
    """The error for ``find_best(*named)`` whose set ``table`` lacks, listing exactly the names it accepts."""
    dataset, metric_on_set = named
    if remap_dataset_set_names(dataset, metric_on_set) != named:  # a reporting dataset's generic name, not recorded
        return BenchmarkError(f"set {metric_on_set!r} of {dataset} is recorded on {table.dataset}, which has no such set "
                              f"in this benchmark; it has train, {', '.join(table.eval_sets)}")
    if dataset in REPORTING:
        choices = split_choices(dataset, table.eval_sets)
    else:  # the official rule on a setting: only 'valid' stands for 'x-valid'
        names = ["train"] + (["valid (= x-valid)"] if "x-valid" in table.eval_sets else []) + list(table.eval_sets)
        choices = ", ".join(names[:-1]) + f" or {names[-1]}"
    return BenchmarkError(f"unknown set {metric_on_set!r} for {dataset}; expected {choices}")


def _store_find_best(table: DatasetTable, setname: str, mask: np.ndarray, flop_max: float | None,
                     param_max: float | None, named: tuple[str, str]) -> tuple[int, Any]:
    setname = "x-valid" if setname == "valid" else setname
    row = table.final_index.get("train-accuracy" if setname == "train" else f"{setname}-accuracy")
    if row is None:
        raise _unknown_set(table, named)
    accuracy = table.seed_mean_row("final", row)
    keep = mask & ~np.isnan(accuracy)
    if flop_max is not None:
        keep &= table.seed_mean_row("cost", 0) <= flop_max
    if param_max is not None:
        keep &= table.seed_mean_row("cost", 1) <= param_max
    if not keep.any():
        return -1, None
    best = int(np.argmax(np.where(keep, accuracy, -np.inf)))
    return best, np.float64(accuracy[best])


def _curve_dict(values: np.ndarray, keys: Any) -> dict[Any, float] | None:
    if np.isnan(values).all():
        return None
    return dict(zip(keys, values.tolist()))


def _materialise(store: Store, index: int, hp: str) -> ArchResults:
    """Rebuild the official ``ArchResults`` of ``(index, hp)`` from the store (last epochs exact)."""
    record = ArchResults(index, store.meta_archs[index])
    for dataset in store.run_datasets(index, hp):
        table = store.table(hp, dataset)
        channel, num_cells, classes = table.config[index].tolist()
        config = {"channel": channel, "num_cells": num_cells, "arch_str": store.meta_archs[index], "class_num": classes}
        for slot, seed in enumerate(table.seed_list(index)):
            epochs = int(table.run_epochs[index, slot])
            curves = table.curves[index, slot, :epochs].astype(np.float64)
            final = table.final[:, index, slot]
            cost = table.cost[:, index, slot].tolist()
            for name, row in table.final_index.items():  # exact last-epoch values
                field = name.rsplit("-", 1)
                column = table.curve_index.get(f"{field[0]}-time" if field[1] == "cur_time" else name)
                if column is not None and field[1] != "all_time":
                    curves[-1, column] = final[row]
            steps = range(epochs)
            column = table.curve_index
            run = ResultsCount(dataset, None, _curve_dict(curves[:, column["train-accuracy"]], steps),
                               _curve_dict(curves[:, column["train-loss"]], steps), cost[1], cost[0], config, seed,
                               epochs, None if cost[2] < 0 else [cost[2]])
            run.train_acc5es = _curve_dict(curves[:, column["train-accuracy5"]], steps)
            run.train_times = _curve_dict(curves[:, column["train-time"]], steps)
            for name in table.eval_sets:
                if np.isnan(curves[-1, column[f"{name}-accuracy"]]):
                    continue
                run.eval_names.append(name)
                keys = [f"{name}@{epoch}" for epoch in steps]
                run.eval_acc1es.update(_curve_dict(curves[:, column[f"{name}-accuracy"]], keys) or {})
                run.eval_losses.update(_curve_dict(curves[:, column[f"{name}-loss"]], keys) or {})
                run.eval_times.update(_curve_dict(curves[:, column[f"{name}-time"]], keys) or {})
            record.update(dataset, seed, run)
    return record
