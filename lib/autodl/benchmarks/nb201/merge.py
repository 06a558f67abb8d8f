"""Merge built result files into the official NAS-Bench-201 layout and our store.

The per-(architecture, seed) files of :mod:`.builder` become ``{'meta_archs', 'arch2infos': {index:
{'less': ArchResults-state, 'full': ArchResults-state}}, 'evaluated_indexes', 'total_archs'}``
(spec 4.5), which can be saved as an official-layout ``.pth`` and converted into a store.  The
result depends only on the files' contents, not on the order they are found in.
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ...engine.checkpoint import save_checkpoint
from ...spaces.nb201 import NUM_ARCHS, benchmark_archs
from .builder import BuildError, load_result
from .readers import BenchmarkSource
from .store import convert

HP_KEYS = {"12": "less", "200": "full"}
"""How the official file names the two recipes."""
BUILT_SOURCE = "built by exps/NAS-Bench-201/build.py"
"""The ``source`` recorded in a merged store's ``index.json`` (the same for every merge of the same files)."""


def find_result_files(results_dirs: Iterable[str | os.PathLike]) -> list[Path]:
    """Every ``arch-*-seed-*.pth`` below the given folders (sorted; unfinished work folders are ignored)."""
    files: set[Path] = set()
    for folder in results_dirs:
        folder = Path(folder)
        if not folder.is_dir():
            raise BuildError(f"results folder {folder} does not exist; pass the --save-dir of a build")
        files.update(path.resolve() for path in folder.rglob("arch-*-seed-*.pth") if ".work" not in path.parts)
    if not files:
        raise BuildError(f"no result files (arch-*-seed-*.pth) found under {', '.join(map(str, results_dirs))}; "
                         "train some architectures first")
    return sorted(files)


def _empty_arch_results(index: int, arch_str: str) -> dict[str, Any]:
    return {"arch_index": index, "arch_str": arch_str, "all_results": {}, "dataset_seed": {}, "clear_net_done": False}


def merge_results(files: Iterable[str | os.PathLike], keep_weights: bool = False) -> dict[str, Any]:
    """The official-layout benchmark dict of the result ``files`` (weights dropped unless ``keep_weights``).

    Files are read one at a time and their weights dropped at once, so merging a full build needs
    memory for the curves only.  Every architecture with a result gets both a ``less`` and a ``full``
    record (empty when that recipe was not run), as the official API expects.  Runs are ordered by
    index, recipe, dataset (first-seen order over the runs sorted by index, recipe and seed) and seed,
    whatever the order of ``files``; a (architecture, recipe, dataset, seed) found twice is an error.
    """
    meta_archs = [str(arch) for arch in benchmark_archs()]
    runs: dict[tuple[int, str, str, int], dict[str, Any]] = {}
    origin: dict[tuple[int, str, str, int], Path] = {}
    datasets_of: dict[tuple[int, str, int], list[str]] = {}
    for path in map(Path, files):
        result = load_result(path, mmap=not keep_weights)
        index, hp, seed = int(result["arch_index"]), str(result["hp"]), int(result["seed"])
        if hp not in HP_KEYS or not 0 <= index < NUM_ARCHS or result["arch_str"] != meta_archs[index]:
            raise BuildError(f"{path} names architecture {index} {result['arch_str']!r} with hp {hp!r}, which does not "
                             "match the NAS-Bench-201 index order; it was not written by this builder")
        if not result.get("finished"):
            raise BuildError(f"{path} is not a finished result; delete it and train it again")
        for dataset in result["datasets"]:
            key = (index, hp, dataset, seed)
            if key in runs:
                raise BuildError(f"architecture {index} seed {seed} on {dataset} (hp {hp}) is in both {origin[key]} "
                                 f"and {path}; keep one of them")
            state = dict(result["results"][dataset])
            if not keep_weights:
                state["net_state_dict"] = None
            runs[key], origin[key] = state, path
        datasets_of.setdefault((index, hp, seed), []).extend(result["datasets"])
        del result
    dataset_order: list[str] = []
    for key in sorted(datasets_of):
        dataset_order += [name for name in datasets_of[key] if name not in dataset_order]
    arch2infos: dict[int, dict[str, Any]] = {}
    for (index, hp, dataset, seed) in sorted(runs, key=lambda key: (key[0], key[1], dataset_order.index(key[2]), key[3])):
        record = arch2infos.setdefault(index, {name: _empty_arch_results(index, meta_archs[index])
                                               for name in ("less", "full")})
        state = record[HP_KEYS[hp]]
        state["all_results"][(dataset, seed)] = runs[(index, hp, dataset, seed)]
        state["dataset_seed"].setdefault(dataset, []).append(seed)
        state["clear_net_done"] = not keep_weights
    return {"meta_archs": meta_archs, "arch2infos": arch2infos, "evaluated_indexes": sorted(arch2infos),
            "total_archs": NUM_ARCHS}


def write_archive(files: Iterable[str | os.PathLike], folder: str | os.PathLike) -> list[Path]:
    """Write one official ``<index:06d>-FULL.pth`` per architecture, weights included (what the API's ``reload`` reads).

    The files of one architecture are merged at a time, so only one architecture's weights are in memory.
    """
    by_index: dict[str, list[Path]] = {}
    for path in map(Path, files):
        by_index.setdefault(path.name.split("-")[1], []).append(path)
    written = []
    for group in by_index.values():
        for index, record in merge_results(group, keep_weights=True)["arch2infos"].items():
            written.append(save_checkpoint(record, Path(folder) / f"{index:06d}-FULL.pth"))
    return sorted(written)


def save_official(benchmark: dict[str, Any], path: str | os.PathLike) -> Path:
    """Write the merged dict as an official-layout ``.pth`` (atomically; readable with ``weights_only=True``)."""
    return save_checkpoint(benchmark, path)


def build_store(results_dirs: Iterable[str | os.PathLike], out_dir: str | os.PathLike,
                official_path: str | os.PathLike | None = None, keep_weights: bool = False,
                curve_dtype: str = "float32", overwrite: bool = False,
                archive_dir: str | os.PathLike | None = None) -> Path:
    """Merge every result file under ``results_dirs`` into the store ``out_dir``, and optionally the
    official-layout ``.pth`` (weights only with ``keep_weights``) and the per-architecture archive."""
    files = find_result_files(results_dirs)
    benchmark = merge_results(files, keep_weights=keep_weights)
    if official_path is not None:
        save_official(benchmark, official_path)
    # the store holds only the recipes that were run (the official layout needs both records)
    ran = {index: {hp: state for hp, state in record.items() if state["all_results"]}
           for index, record in benchmark["arch2infos"].items()}
    source = BenchmarkSource.from_dict({**benchmark, "arch2infos": ran}, filename=BUILT_SOURCE, copy_data=False)
    store = convert(source, out_dir, curve_dtype=curve_dtype, overwrite=overwrite)
    if archive_dir is not None:
        write_archive(files, archive_dir)
    return store

