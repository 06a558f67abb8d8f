"""Run a TAS shape search end to end: the library call behind ``exps/search-shape.py``.

The run directory receives ``config.json``, ``log.txt``, ``metrics.jsonl`` (per epoch: losses, accuracies,
temperature, the argmax shape ``xchannels``/``xblocks``, its MFLOPs and FLOP ratio), ``checkpoint/`` and at
the end ``seed-S-last.json`` (the last shape) and ``seed-S-best.json`` (the best valid accuracy among the
epochs within the FLOP tolerance), model configs that ``create_model`` builds.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping, NamedTuple

import torch

from ...config import OptimConfig, config_to_dict, write_json
from ...data import class_balanced_split, dataset_labels, get_datasets, get_search_loaders, read_train_valid_split
from ...data.splits import TrainValidSplit
from ...engine.distributed import cleanup
from ...engine.flops import get_model_infos
from ...engine.rundir import RunDir
from ...engine.train import start_run
from ...engine.trainer import Progress, Trainer
from ...errors import ConfigError
from ...models import create_model, resolve_model_config
from ...models.shape_search import search_model_config
from .config import ShapeSearchConfig
from .task import ShapeSearchTask, best_epoch

SPLIT_RATIO, SPLIT_SEED = 0.5, 111  # exps/prepare.py's defaults: half of every class for each side


class ShapeSearchResult(NamedTuple):
    """The last and the best shape (model configs), where rank 0 wrote them, the per-epoch metrics and the task."""

    last: dict[str, Any]
    best: dict[str, Any]
    last_path: Path | None
    best_path: Path | None
    history: list[dict[str, Any]]
    task: ShapeSearchTask


def balanced_halves(data) -> TrainValidSplit:
    """Each class of ``data`` split in two halves (prepare.py's split, computed in place)."""
    split = class_balanced_split(dataset_labels(data), SPLIT_RATIO, SPLIT_SEED)
    return TrainValidSplit(split["train"], split["valid"])


def run_shape_search(model: Mapping[str, Any] | str | os.PathLike, optim: OptimConfig, search: ShapeSearchConfig,
                     dataset: str, save_dir: str | os.PathLike, *, data_path: str | None = None,
                     split_path: str | os.PathLike | None = None, seed: int = -1, batch_size: int | None = None,
                     test_batch_size: int | None = None, workers: int = 0, device: str = "auto",
                     deterministic: bool = False, progress: Progress = None, echo: bool = True) -> ShapeSearchResult:
    """Search the shape of the base ResNet ``model`` (config or JSON path) on ``dataset``; re-running on
    ``save_dir`` resumes exactly.  The training set is split class by class in two halves (or as the
    ``split_path`` file of ``exps/prepare.py`` says): weights learn on one, the shape on the other."""
    torch_device, dist_info, seed = start_run(save_dir, seed, device, deterministic)
    base = resolve_model_config(model)
    base.pop("_origin")
    batch_size = batch_size or optim.batch_size or 256
    test_batch_size = test_batch_size or optim.test_batch_size or batch_size
    split = balanced_halves if split_path is None else (lambda data: read_train_valid_split(split_path, len(data)))
    loaders = get_search_loaders(dataset, data_path, batch_size, test_batch_size, workers,
                                 world_size=dist_info.world_size, rank=dist_info.rank, seed=seed, split=split)
    image_shape = tuple(loaders.valid.dataset[0][0].shape)
    net_config = search_model_config(base, search.mode, loaders.num_classes, image_shape[-1])
    net = create_model(net_config)
    max_mflops, mparams = get_model_infos(net, (1, *image_shape))
    settings = {"algorithm": "TAS", "dataset": dataset, "base_model": base, "search_model": net_config,
                "optim": config_to_dict(optim), "search": config_to_dict(search), "seed": seed,
                "batch_size": batch_size, "test_batch_size": test_batch_size,
                "split": "class-balanced halves" if split_path is None else str(split_path),
                "world_size": dist_info.world_size}

    run = RunDir(save_dir, is_main=dist_info.is_main, echo=echo)
    run.prepare(settings)
    run.log_environment()
    run.log(f"device={torch_device} settings=" + json.dumps(settings))
    run.log(f"unpruned network: {max_mflops:.4f} MFLOPs, {mparams:.6f} M parameters; target "
            f"{search.flop_ratio * max_mflops:.4f} MFLOPs (ratio {search.flop_ratio} +- {search.flop_tolerance})")
    task = ShapeSearchTask(net.to(torch_device), loaders, optim, search, torch_device, max_mflops, dist_info, seed)
    try:
        history = Trainer(task, optim.total_epochs, run, progress=progress).fit()
    finally:
        cleanup()
    last = net.shape_config()
    kept = best_epoch(history, search.flop_ratio)
    best = net.shape_config(kept["xchannels"], kept["xblocks"])
    last_path = best_path = None
    if dist_info.is_main:
        last_path, best_path = run.path / f"seed-{seed}-last.json", run.path / f"seed-{seed}-best.json"
        write_json(last, last_path)
        write_json(best, best_path)
        run.log(f"last shape: {last['estimated_FLOP']:.4f} MFLOPs (ratio {last['estimated_FLOP'] / max_mflops:.4f}) "
                f"-> {last_path}")
        run.log(f"best shape (epoch {kept['epoch']}, valid top-1 {kept['valid_top1']:.2f}, ratio "
                f"{kept['flop_ratio']:.4f}{'' if kept['within_tolerance'] else ', none within the tolerance'}) -> {best_path}")
    return ShapeSearchResult(last, best, last_path, best_path, history, task)


BASELINES = ("fix", "random")


def write_baseline_shape(model: Mapping[str, Any] | str | os.PathLike, kind: str, flop_ratio: float, dataset: str,
                         save_dir: str | os.PathLike, *, data_path: str | None = None, seed: int = 0) -> tuple[dict[str, Any], Path]:
    """Write the paper's ablation baselines without searching: ``fix`` (every width scaled by sqrt(ratio))
    or ``random`` (widths drawn near that, block counts uniformly) as ``<save_dir>/<kind>-<ratio>-seed-<seed>.json``."""
    if kind not in BASELINES:
        raise ConfigError(f"unknown baseline {kind!r}; expected one of {', '.join(BASELINES)}")
    data = get_datasets(dataset, data_path)
    base = resolve_model_config(model)
    base.pop("_origin")
    net = create_model(search_model_config(base, "shape", data.num_classes, data.input_shape[-1]))
    shape = (net.uniform_shape(flop_ratio) if kind == "fix"
             else net.random_shape(flop_ratio, torch.Generator().manual_seed(seed)))
    config = net.shape_config(*shape)
    path = Path(save_dir) / f"{kind}-{flop_ratio}-seed-{seed}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(config, path)
    return config, path
