"""Synthetic benchmark content in the exact official layouts (spec 4.5), for tests and benchmarks.

The numbers are random but the containers, keys and Python types are those of the released
files: ``{'meta_archs', 'arch2infos': {index: {'less': ArchResults-state, 'full': ...}},
'evaluated_indexes', 'total_archs'}``, per-architecture ``<index:06d>-FULL.pth`` files and NATS
``.pickle.pbz2`` files.
"""
from __future__ import annotations

import bz2
import itertools
import json
import os
import pickle
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from .readers import NATS_META, NATS_SUFFIX

_OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
_EVAL_SETS = {"cifar10-valid": ["x-valid", "ori-test"], "cifar10": ["ori-test"],
              "cifar100": ["ori-test", "x-valid", "x-test"], "ImageNet16-120": ["ori-test", "x-valid", "x-test"]}
_CLASSES = {"cifar10-valid": 10, "cifar10": 10, "cifar100": 100, "ImageNet16-120": 120}


def arch_strings(count: int = 15625) -> list[str]:
    """``count`` distinct cell strings (all 15,625 in enumeration order; not the benchmark's shuffled order)."""
    strings = []
    for ops in itertools.islice(itertools.product(_OPS, repeat=6), count):
        strings.append(f"|{ops[0]}~0|+|{ops[1]}~0|{ops[2]}~1|+|{ops[3]}~0|{ops[4]}~1|{ops[5]}~2|")
    return strings


def _run(rng: np.random.Generator, dataset: str, seed: int, epochs: int, arch_str: str, base: float,
         timed: bool, weights: bool) -> dict[str, Any]:
    progress = 1.0 - np.exp(-np.arange(1, epochs + 1) / (epochs / 4.0))
    accuracy = (base * progress + rng.normal(0, 0.5, epochs)).clip(1, 100)
    sets = _EVAL_SETS[dataset]
    epoch_time = float(rng.uniform(5, 30))
    state: dict[str, Any] = {
        "name": dataset,
        "net_state_dict": OrderedDict(weight=torch.randn(2, 3), bias=torch.zeros(2)) if weights else None,
        "train_acc1es": dict(enumerate(accuracy.tolist())),
        "train_acc5es": dict(enumerate(np.minimum(accuracy + 10, 100).tolist())),
        "train_losses": dict(enumerate((2.5 * (1 - progress) + rng.uniform(0.01, 0.1, epochs)).tolist())),
        "train_times": OrderedDict(enumerate((rng.uniform(0.9, 1.1, epochs) * epoch_time).tolist())) if timed else None,
        "arch_config": {"channel": 16, "num_cells": 5, "arch_str": arch_str, "class_num": _CLASSES[dataset]},
        "params": float(rng.uniform(0.07, 1.5)), "flop": float(rng.uniform(7, 220)), "seed": seed, "epochs": epochs,
        "latency": rng.uniform(0.005, 0.03, 3).tolist() if timed or rng.random() < 0.8 else None,
        "eval_names": list(sets), "eval_acc1es": {}, "eval_times": {}, "eval_losses": {},
    }
    for name in sets:
        values = (accuracy - rng.uniform(1, 5) + rng.normal(0, 0.3, epochs)).clip(1, 100).tolist()
        losses = rng.uniform(0.2, 2.0, epochs).tolist()
        times = rng.uniform(0.5, 2.0, epochs).tolist()
        for epoch in range(epochs):
            key = f"{name}@{epoch}"
            state["eval_acc1es"][key], state["eval_losses"][key] = values[epoch], losses[epoch]
            if timed:
                state["eval_times"][key] = times[epoch]
    return state


def _arch_results(rng: np.random.Generator, index: int, arch_str: str, seeds: dict[str, list[int]], epochs: int,
                  timed: bool, weights: bool, accuracy: Callable[[str], float] | None) -> dict[str, Any]:
    all_results, dataset_seed = {}, {}
    base = float(rng.uniform(40, 95))
    if accuracy is not None:
        base = float(accuracy(arch_str))
    for dataset, dataset_seeds in seeds.items():
        dataset_seed[dataset] = sorted(dataset_seeds)
        for seed in dataset_seed[dataset]:
            all_results[(dataset, seed)] = _run(rng, dataset, seed, epochs, arch_str, base, timed, weights)
    return {"arch_index": index, "arch_str": arch_str, "all_results": all_results, "dataset_seed": dataset_seed,
            "clear_net_done": False}


def make_record(index: int, arch_str: str, style: str = "v1_1", epochs: tuple[int, int] = (12, 200), seed: int = 0,
                weights: bool = False, accuracy: Callable[[str], float] | None = None) -> dict[str, dict]:
    """``{'less': ..., 'full': ...}`` of one architecture (v1_1: every dataset in both recipes; v1_0: 'less' only on cifar10-valid, no times).

    ``accuracy`` (architecture string -> percent) replaces the random level the accuracy curves rise to."""
    rng = np.random.default_rng([seed, index])
    full_seeds = [777, 888, 999][: 1 + int(rng.integers(0, 3))]
    datasets = list(_EVAL_SETS)
    if style == "v1_1":
        less = {name: ([111, 777] if name == "cifar10-valid" else [777]) for name in datasets}
    else:
        less = {"cifar10-valid": [777]}
    timed = style == "v1_1"
    return {"less": _arch_results(rng, index, arch_str, less, epochs[0], timed, weights, accuracy),
            "full": _arch_results(rng, index, arch_str, {name: list(full_seeds) for name in datasets}, epochs[1], timed,
                                  weights, accuracy)}


def make_benchmark(num_records: int, total_archs: int | None = None, style: str = "v1_1",
                   epochs: tuple[int, int] = (12, 200), seed: int = 0,
                   accuracy: Callable[[str], float] | None = None) -> dict[str, Any]:
    """An official-layout benchmark dict with records for the first ``num_records`` of ``total_archs`` architectures
    (``accuracy``: see :func:`make_record`)."""
    total_archs = num_records if total_archs is None else total_archs
    meta_archs = arch_strings(total_archs)
    arch2infos = {index: make_record(index, meta_archs[index], style, epochs, seed, accuracy=accuracy)
                  for index in range(num_records)}
    return {"meta_archs": meta_archs, "arch2infos": arch2infos, "evaluated_indexes": set(range(num_records)),
            "total_archs": total_archs}


def to_nats(record: dict[str, dict]) -> dict[str, dict]:
    """An official ``{'less', 'full'}`` record in the NATS-Bench topology keys ``{'12', '200'}``."""
    return {"12": record["less"], "200": record["full"]}


def write_nats_archive(benchmark: dict[str, Any], folder: str | os.PathLike) -> Path:
    """Write ``benchmark`` as a NATS ``-simple`` folder: ``meta.pickle.pbz2`` plus one file per architecture."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with bz2.open(folder / NATS_META, "wb") as handle:
        pickle.dump({"meta_archs": benchmark["meta_archs"]}, handle, protocol=pickle.HIGHEST_PROTOCOL)
    for index, record in benchmark["arch2infos"].items():
        with bz2.open(folder / f"{index:06d}{NATS_SUFFIX}", "wb") as handle:
            pickle.dump(to_nats(record), handle, protocol=pickle.HIGHEST_PROTOCOL)
    return folder


def write_nats_file(benchmark: dict[str, Any], path: str | os.PathLike) -> Path:
    """Write ``benchmark`` as a NATS single-file ``.pickle.pbz2`` (hp keys ``'12'``/``'200'``)."""
    data = {"meta_archs": benchmark["meta_archs"], "evaluated_indexes": sorted(benchmark["evaluated_indexes"]),
            "arch2infos": {index: to_nats(record) for index, record in benchmark["arch2infos"].items()}}
    with bz2.open(path, "wb") as handle:
        pickle.dump(data, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return Path(path)


def write_synthetic_store(folder: str | os.PathLike, num_archs: int = 15625, epochs: tuple[int, int] = (12, 200),
                          seed: int = 0, accuracy: Callable[[str], float] | None = None) -> Path:
    """Write a store of the full v1_1 shape directly from random arrays (seconds instead of a 28 GB detour).

    Seed counts follow the v1_1 file: 200 epochs once/twice/three times for 2,225/5,439/7,961 of the
    15,625 architectures (seeds 777, 888, 999); 12 epochs twice on cifar10-valid (111, 777), once elsewhere.

    With ``accuracy`` (architecture string -> percent) the numbers follow a known function of the cell,
    for tests of searches: see :func:`_known_values`.
    """
    from .store import INDEX_FILE, STORE_FORMAT, STORE_VERSION, cost_columns, curve_columns, final_columns

    folder = Path(folder)
    rng = np.random.default_rng(seed)
    counts = rng.permutation(np.repeat([1, 2, 3], np.round(np.array([2225, 5439, 7961]) * num_archs / 15625).astype(int)))
    counts = np.resize(counts, num_archs)
    layout: dict[str, Any] = {}
    names = arch_strings(num_archs)
    if accuracy is not None:
        bases = np.array([accuracy(name) for name in names], dtype=np.float64)
        op_counts = np.array([[name.count(op) for op in _OPS] for name in names], dtype=np.float64)
    for hp, epoch_count in (("12", epochs[0]), ("200", epochs[1])):
        slots = 2 if hp == "12" else 3
        layout[hp] = {"epochs": epoch_count, "seed_slots": slots,
                      "datasets": {name: {"eval_sets": list(sets), "rows": num_archs} for name, sets in _EVAL_SETS.items()}}
        for dataset, sets in _EVAL_SETS.items():
            sub = folder / f"hp{hp}" / dataset
            sub.mkdir(parents=True, exist_ok=True)
            if hp == "12":
                run_seeds = [111, 777] if dataset == "cifar10-valid" else [777]
                seeds = np.full((num_archs, slots), -1, np.int64)
                seeds[:, : len(run_seeds)] = run_seeds
            else:
                seeds = np.where(np.arange(slots)[None, :] < counts[:, None], np.array([777, 888, 999])[None, :], -1)
            valid = seeds >= 0
            np.save(sub / "archs.npy", np.arange(num_archs, dtype=np.int64))  # every architecture has a row
            np.save(sub / "seeds.npy", seeds)
            np.save(sub / "epochs.npy", np.where(valid, epoch_count, 0).astype(np.int32))
            final = rng.uniform(1, 100, (len(final_columns(sets)), num_archs, slots))
            cost = rng.uniform(0.01, 200, (len(cost_columns(sets)), num_archs, slots))
            known = None if accuracy is None else _known_values(bases, op_counts, rng, slots, epoch_count, sets)
            if known is not None:
                final = _known_final(final, known, sets)
            np.save(sub / "final.npy", np.where(valid[None], final, np.nan))
            np.save(sub / "cost.npy", np.where(valid[None], cost, np.nan))
            np.save(sub / "config.npy", np.tile(np.array([16, 5, _CLASSES[dataset]], np.int32), (num_archs, 1)))
            curves = np.lib.format.open_memmap(sub / "curves.npy", mode="w+", dtype=np.float32,
                                               shape=(num_archs, slots, epoch_count, len(curve_columns(sets))))
            for start in range(0, num_archs, 1024):
                chunk = rng.uniform(0, 100, curves[start:start + 1024].shape).astype(np.float32)
                if known is not None:
                    _known_curves(chunk, known, sets, slice(start, start + 1024))
                chunk[~valid[start:start + 1024]] = np.nan
                curves[start:start + 1024] = chunk
            curves.flush()
            del curves
    np.save(folder / "evaluated.npy", np.ones(num_archs, dtype=bool))
    index = {"format": STORE_FORMAT, "version": STORE_VERSION, "source": "synthetic", "curve_dtype": "float32",
             "num_archs": num_archs, "hps": layout, "meta_archs": names}
    (folder / INDEX_FILE).write_text(json.dumps(index))
    return folder


def _known_values(bases: np.ndarray, op_counts: np.ndarray, rng: np.random.Generator, slots: int, epochs: int,
                  sets: list[str]) -> dict[str, np.ndarray]:
    """Accuracy curves ``base * (1 - exp(-e / (E / 4))) + noise`` (noise uniform in +-0.5 per run; every
    evaluation set the same, train 5 points higher, capped at 100) and per-epoch times that grow with the
    convolutions: train ``4 + 2 * #conv3x3 + #conv1x1`` s, evaluation a quarter of it, for every run."""
    progress = 1.0 - np.exp(-np.arange(1, epochs + 1) / (epochs / 4.0))
    noise = rng.uniform(-0.5, 0.5, (len(bases), slots))
    curve = (bases[:, None, None] * progress[None, None, :] + noise[:, :, None]).clip(0, 100)
    train_time = 4.0 + 2.0 * op_counts[:, 3] + op_counts[:, 2]
    return {"curve": curve, "train": np.minimum(curve + 5.0, 100.0),
            "train_time": np.broadcast_to(train_time[:, None, None], curve.shape),
            "eval_time": np.broadcast_to(train_time[:, None, None] / 4.0, curve.shape)}


def _known_final(final: np.ndarray, known: dict[str, np.ndarray], sets: list[str]) -> np.ndarray:
    from .store import final_columns

    rows = {name: i for i, name in enumerate(final_columns(sets))}
    final = final.copy()
    final[rows["train-accuracy"]] = known["train"][:, :, -1]
    final[rows["train-cur_time"]] = known["train_time"][:, :, -1]
    final[rows["train-all_time"]] = known["train_time"].sum(axis=2)
    for name in sets:
        final[rows[f"{name}-accuracy"]] = known["curve"][:, :, -1]
        final[rows[f"{name}-cur_time"]] = known["eval_time"][:, :, -1]
        final[rows[f"{name}-all_time"]] = known["eval_time"].sum(axis=2)
    return final


def _known_curves(chunk: np.ndarray, known: dict[str, np.ndarray], sets: list[str], rows: slice) -> None:
    from .store import curve_columns

    columns = {name: i for i, name in enumerate(curve_columns(sets))}
    chunk[..., columns["train-accuracy"]] = known["train"][rows]
    chunk[..., columns["train-time"]] = known["train_time"][rows]
    for name in sets:
        chunk[..., columns[f"{name}-accuracy"]] = known["curve"][rows]
        chunk[..., columns[f"{name}-time"]] = known["eval_time"][rows]
