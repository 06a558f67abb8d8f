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
from ...engine.trainer import Progress, Trainer
from ...errors import ConfigError
from ...models import create_model
from ...spaces.artifact import save_artifact
from ...spaces.nasnet import Genotype
from ...viz import arch_text, cell_text
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
               progress: Progress = None, echo: bool = True) -> SearchResult:
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
    ran = f"{algorithm}: ran {len(history)} epochs, cost {cost:.1f} s"
    run.log(f"{ran}, final architecture {arch_text(arch).replace(chr(10), ' | ')}",
            shown=None if isinstance(arch, str) else f"{ran}")
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


def result_text(algorithm: str, arch: Any, artifact: str | os.PathLike) -> str:
    """What ``exps/search-cell.py`` prints at the end: ``ALGO: CELL -> result.json`` for an NB201 cell, the
    cells one per line (:func:`autodl.viz.arch_text`) below ``ALGO: found -> result.json`` for a Genotype."""
    if isinstance(arch, Genotype):
        return f"{algorithm}: found -> {artifact}\n" + "\n".join(f"  {line}" for line in arch_text(arch).splitlines())
    return f"{algorithm}: {arch} -> {artifact}"


def search_summary(search_dir: str | os.PathLike, retrain_dir: str | os.PathLike | None = None) -> dict[str, Any]:
    """A finished search (and the retraining of its cell) as a JSON-able dict: what was found (``arch``: the
    NB201 string or the genotype's dict), at what cost, how the search ended (``supernet``), the benchmark
    numbers, the retraining's last test top-1 and where the drawings are."""
    from ...spaces.artifact import load_artifact

    search_dir = Path(search_dir)
    artifact = load_artifact(search_dir / "result.json")
    last = RunDir(search_dir, echo=False).read_metrics()[-1]
    summary = {"algorithm": artifact.algorithm, "dataset": artifact.dataset, "space": artifact.space,
               "seed": artifact.seed, "epochs": artifact.extra.get("epochs"), "search_cost_s": artifact.search_cost_s,
               "arch": artifact.arch if isinstance(artifact.arch, str) else artifact.arch.to_dict(),
               "supernet": {"valid_top1": last.get("valid_top1", last.get("train_arch_top1")),
                            **{key: last[key] for key in ("skip_fraction", "none_fraction", "arch_entropy")}},
               "benchmark": {k[6:]: v for k, v in artifact.benchmark.items() if k.startswith("bench_")}
               if artifact.benchmark else None, "retrained": None,
               "drawings": [str(search_dir / name) for name in sorted(p.name for p in search_dir.glob("*.png"))]}
    if retrain_dir is not None:
        history = RunDir(retrain_dir, echo=False).read_metrics()
        if history:
            summary["retrained"] = {"test_top1": history[-1]["test_top1"], "epochs": len(history),
                                    "path": str(retrain_dir)}
    return summary


def summary_text(summary: dict[str, Any]) -> str:
    """:func:`search_summary` as a few aligned lines for people."""
    arch = summary["arch"]
    found = ([("found cell", arch)] if isinstance(arch, str) else
             [(f"{kind} cell", cell_text(Genotype.from_dict(arch), kind == "reduce")) for kind in ("normal", "reduce")])
    net = summary["supernet"]
    rows = found + [("supernet", f"valid top-1 {net['valid_top1']:.2f}%, skip {net['skip_fraction']:.2f}, "
                                 f"none {net['none_fraction']:.2f}, entropy {net['arch_entropy']:.3f} nats")]
    if summary["benchmark"]:
        rows.append(("NAS-Bench-201", ", ".join(f"{k} {v:.2f}" for k, v in summary["benchmark"].items())))
    if summary["retrained"]:
        retrained = summary["retrained"]
        rows.append(("retrained", f"test top-1 {retrained['test_top1']:.2f}% after {retrained['epochs']} epochs "
                                  f"({retrained['path']})"))
    rows.append(("drawings", ", ".join(summary["drawings"])))
    head = (f"{summary['algorithm']} on {summary['dataset']} ({summary['space']} space, seed {summary['seed']}): "
            f"{summary['epochs']} epochs in {summary['search_cost_s']:.1f} s")
    return "\n".join([head] + [f"  {label:<16} {text}" for label, text in rows])
