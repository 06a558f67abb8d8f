"""Run a weight-sharing search end to end: the library call behind ``exps/search-cell.py``.

Everything the command line can get wrong (algorithm, space, dataset, data files, benchmark file)
is checked before the run directory is written.  The run directory receives ``config.json``,
``log.txt``, ``metrics.jsonl`` (per epoch: losses, accuracies, the derived architecture, collapse
diagnostics, the architecture distribution, benchmark numbers), ``checkpoint/``, and at the end
``result.json`` (the architecture artifact), the cell drawing(s) and ``arch-history.png``.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, NamedTuple

from ...config import OptimConfig, SearchConfig, config_from_dict, config_to_dict, read_json_object
from ...data.search import get_search_loaders
from ...engine.distributed import cleanup
from ...engine.rundir import RunDir
from ...engine.train import start_run
from ...engine.trainer import Trainer
from ...errors import ConfigError
from ...models import create_model
from ...spaces.artifact import save_artifact
from ...spaces.nasnet import Genotype
from ..registry import ALGORITHMS, algorithm_config, create_algorithm

ARTIFACT_SPACE = {"nas-bench-201": "nas-bench-201", "darts": "nasnet"}


class SearchResult(NamedTuple):
    """The found architecture, the artifact path (rank 0), the per-epoch metrics and the search task
    (its ``supernet``, optimisers and loaders, for inspection in a notebook)."""

    arch: Any
    artifact: Path | None
    history: list[dict[str, Any]]
    task: Any


def load_search_recipe(path: str | os.PathLike, algorithm: str, **search_overrides: Any) -> tuple[OptimConfig, SearchConfig]:
    """Read a search recipe ``{"optim": {OptimConfig}, "search": {settings}}`` (``configs/search``) for
    ``algorithm``: the search section holds the shared :class:`SearchConfig` keys and the algorithm's own
    (its ``Settings``); ``search_overrides`` that are not None replace them."""
    data = read_json_object(path, 'a search recipe {"optim": {...}, "search": {...}}')
    unknown = sorted(set(data) - {"optim", "search"})
    if unknown or "optim" not in data:
        raise ConfigError(f"{path}: a search recipe holds the keys 'optim' (required) and 'search'; "
                          f"got {', '.join(sorted(data))}")
    search = dict(data.get("search", {}))
    search.update({k: v for k, v in search_overrides.items() if v is not None})
    settings = config_from_dict(ALGORITHMS.get(algorithm).settings, search, f"{path}: search")
    return config_from_dict(OptimConfig, data["optim"], f"{path}: optim"), algorithm_config(algorithm, settings)


def supernet_config(algorithm: str, search: SearchConfig, num_classes: int) -> dict[str, Any]:
    """The model config of the supernet that ``algorithm`` searches under ``search`` (its space, width,
    depth, BN statistics, op set and the cells' own options), for ``num_classes`` classes."""
    config = {"name": ALGORITHMS.get(algorithm).supernet(search.space), "C": search.channel, "N": search.num_cells, "num_classes": num_classes,
              "track_running_stats": search.track_running_stats}
    if search.op_set != "default":
        config["op_set"] = search.op_set
    options = ALGORITHMS.get(algorithm).task.cell_options(search)
    if options:
        config["cell_options"] = options
    return config


def run_search(algorithm: str, optim: OptimConfig, search: SearchConfig, dataset: str,
               save_dir: str | os.PathLike, *, data_path: str | None = None, seed: int = -1,
               batch_size: int | None = None, test_batch_size: int | None = None, workers: int = 0,
               device: str = "auto", benchmark: str | os.PathLike | None = None, deterministic: bool = False,
               progress: bool | None = None, echo: bool = True) -> SearchResult:
    """Search ``search.space`` with ``algorithm`` on ``dataset``; re-running on ``save_dir`` resumes exactly.

    Under ``torchrun`` every process trains on its shard; architecture gradients are averaged and
    sampling is rank-consistent, so all processes hold the same architecture; rank 0 writes the run.
    """
    search = algorithm_config(algorithm, search)
    save_dir = Path(save_dir)
    bench = _open_benchmark(benchmark, search)
    torch_device, dist_info, seed = start_run(save_dir, seed, device, deterministic)

    batch_size = batch_size or optim.batch_size or 64
    test_batch_size = test_batch_size or optim.test_batch_size or batch_size
    loaders = get_search_loaders(dataset, data_path, batch_size, test_batch_size, workers,
                                 world_size=dist_info.world_size, rank=dist_info.rank, seed=seed)
    settings = {"algorithm": algorithm, "dataset": dataset, "supernet": supernet_config(algorithm, search, loaders.num_classes),
                "optim": config_to_dict(optim), "search": config_to_dict(search), "seed": seed,
                "batch_size": batch_size, "test_batch_size": test_batch_size, "world_size": dist_info.world_size,
                "benchmark": None if benchmark is None else str(benchmark)}

    run = RunDir(save_dir, is_main=dist_info.is_main, echo=echo)
    run.prepare(settings)
    run.log_environment()
    run.log(f"device={torch_device} settings=" + json.dumps(settings))
    supernet = create_model(settings["supernet"]).to(torch_device)
    task = create_algorithm(algorithm, supernet, loaders, optim, search, torch_device, dist_info=dist_info,
                            seed=seed, benchmark=bench)
    try:
        history = Trainer(task, optim.total_epochs, run, progress=progress).fit()
        began = time.perf_counter()
        arch = task.final_arch()
        final_time = time.perf_counter() - began
    finally:
        cleanup()
    cost = sum(record["epoch_time_s"] for record in history) + final_time
    run.log(f"{algorithm}: ran {len(history)} epochs, cost {cost:.1f} s, final architecture {arch}")
    artifact = None
    if dist_info.is_main:
        artifact = _write_outputs(run, task, arch, history, settings, cost, bench)
    return SearchResult(arch, artifact, history, task)


def _open_benchmark(path: str | os.PathLike | None, search: SearchConfig):
    if path is None:
        return None
    if search.space != "nas-bench-201":
        raise ConfigError(f"--benchmark needs the nas-bench-201 space (NAS-Bench-201 holds only its cells); "
                          f"drop it for the {search.space!r} space")
    from ...benchmarks.nb201 import NB201Benchmark

    return NB201Benchmark.open(path)


def _write_outputs(run: RunDir, task, arch, history, settings, cost: float, bench) -> Path:
    from ... import viz
    from .base import benchmark_numbers

    numbers = benchmark_numbers(bench, arch) if bench is not None else None
    benchmark = None
    if numbers:
        benchmark = {"hp": "200", "split": "valid: x-valid (cifar10-valid for cifar10); test: paper protocol "
                     "(ori-test for cifar10, x-test otherwise); mean over seeds", **numbers}
    path = run.path / "result.json"
    save_artifact(path, arch, algorithm=settings["algorithm"], dataset=settings["dataset"], seed=settings["seed"],
                  search_cost_s=cost, benchmark=benchmark, space=ARTIFACT_SPACE[settings["search"]["space"]],
                  config=settings, epochs=len(history), arch_per_epoch=[r["arch"] for r in history],
                  **task.result_extra())
    if isinstance(arch, Genotype):
        for cell in ("normal", "reduce"):
            viz.draw_cell(arch, run.path / f"cell-{cell}.png", cell, title=f"{settings['algorithm']} {cell} cell")
    else:
        viz.draw_cell(arch, run.path / "cell.png", title=f"{settings['algorithm']} cell")
    if history:
        probs = [[row for table in record["arch_probs"] for row in table] for record in history]
        edge_ops = [ops for ops, (edges, _) in zip(task.supernet.op_lists, task.arch_shapes) for _ in range(edges)]
        viz.draw_arch_history(probs, run.path / "arch-history.png", edge_ops, list(task.supernet.edge_names),
                              title=f"{settings['algorithm']} on {settings['dataset']}")
    run.log(f"wrote {path}")
    return path


def summarize_search(search_dir: str | os.PathLike, retrain_dir: str | os.PathLike | None = None) -> str:
    """A few lines on a finished search (and the retraining of its cell): what was found, at what cost,
    how the search ended, and where the drawings are."""
    from ...spaces.artifact import load_artifact

    search_dir = Path(search_dir)
    artifact = load_artifact(search_dir / "result.json")
    last = RunDir(search_dir, echo=False).read_metrics()[-1]
    accuracy = last.get("valid_top1", last.get("train_arch_top1"))
    drawings = sorted(p.name for p in search_dir.glob("*.png"))
    lines = [f"{artifact.algorithm} on {artifact.dataset} ({artifact.space} space, seed {artifact.seed}): "
             f"{artifact.extra.get('epochs')} epochs in {artifact.search_cost_s:.1f} s",
             f"  found cell       {artifact.arch if isinstance(artifact.arch, str) else artifact.arch.to_json()}",
             f"  supernet         valid top-1 {accuracy:.2f}%, skip {last['skip_fraction']:.2f}, "
             f"none {last['none_fraction']:.2f}, entropy {last['arch_entropy']:.3f} nats"]
    if artifact.benchmark:
        numbers = ", ".join(f"{k[6:]} {v:.2f}" for k, v in artifact.benchmark.items() if k.startswith("bench_"))
        lines.append(f"  NAS-Bench-201    {numbers}")
    if retrain_dir is not None:
        history = RunDir(retrain_dir, echo=False).read_metrics()
        if history:
            lines.append(f"  retrained        test top-1 {history[-1]['test_top1']:.2f}% after {len(history)} epochs "
                         f"({Path(retrain_dir)})")
    lines.append(f"  drawings         {', '.join(str(search_dir / name) for name in drawings)}")
    return "\n".join(lines)
