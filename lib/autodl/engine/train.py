"""Train a classifier from a model config, an optimiser recipe and a dataset name; evaluate a checkpoint.

These are the library calls behind ``exps/basic-main.py`` and ``exps/basic-eval.py``.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping, NamedTuple

import torch
from torch import nn

from ..config import OptimConfig, config_to_dict
from ..data import get_datasets
from ..data.loader import make_loader
from ..errors import CheckpointError
from ..models import create_model, resolve_model_config
from .checkpoint import load_checkpoint
from .classification import ClassifierTask, DistillationTask, evaluate
from .device import Precision, prepare_model, resolve_device
from .distributed import DistInfo, cleanup, init_distributed, local_device
from .flops import get_model_infos
from .losses import build_criterion
from .rundir import RunDir, run_seed
from .seed import seed_everything
from .trainer import Progress, Trainer


class TrainResult(NamedTuple):
    """The trained model (unwrapped, on its device) and the per-epoch metrics."""

    model: nn.Module
    history: list[dict[str, Any]]


class RunStart(NamedTuple):
    """What :func:`start_run` settled: this process's device, the process group and the run's seed."""

    device: torch.device
    dist_info: DistInfo
    seed: int


def start_run(save_dir: str | os.PathLike, seed: int, device: str, deterministic: bool) -> RunStart:
    """The start of every run: join the ``torchrun`` process group (a no-op for one process), take this
    process's device, settle the seed (:func:`run_seed`: kept from ``save_dir`` on resume) and seed with it."""
    torch_device = resolve_device(device)
    dist_info = init_distributed(torch_device)
    torch_device = local_device(torch_device, dist_info)
    seed = run_seed(seed, save_dir)
    seed_everything(seed, deterministic)
    return RunStart(torch_device, dist_info, seed)


def train_classifier(model_config: Mapping[str, Any] | str | os.PathLike, optim_config: OptimConfig,
                     dataset: str, save_dir: str | os.PathLike, *, data_path: str | None = None,
                     seed: int = -1, batch_size: int | None = None, test_batch_size: int | None = None,
                     workers: int = 0, cutout: int = 0, eval_frequency: int = 1, device: str = "auto",
                     amp: bool = True, deterministic: bool = False, progress: Progress = None,
                     init_model: str | None = None, echo: bool = True, teacher_checkpoint: str | None = None,
                     kd_alpha: float = 0.9, kd_temperature: float = 4.0) -> TrainResult:
    """Train ``model_config`` on ``dataset`` with ``optim_config``, writing a run directory at ``save_dir``.

    Re-running with the same ``save_dir`` and settings resumes exactly where the last run stopped.
    Under ``torchrun`` every process trains its shard and only rank 0 writes the run directory.
    With ``teacher_checkpoint`` (a checkpoint of another run) the model is trained by knowledge
    distillation from that run's model.
    """
    torch_device, dist_info, seed = start_run(save_dir, seed, device, deterministic)
    data = get_datasets(dataset, data_path, cutout=cutout)
    model_dict = resolve_model_config(model_config, num_classes=data.num_classes)
    model_dict.pop("_origin")
    batch_size = batch_size or optim_config.batch_size or 256
    test_batch_size = test_batch_size or optim_config.test_batch_size or batch_size
    settings = {"model": model_dict, "optim": config_to_dict(optim_config), "dataset": dataset,
                "cutout": cutout, "batch_size": batch_size, "test_batch_size": test_batch_size,
                "seed": seed, "eval_frequency": eval_frequency, "init_model": init_model,
                "world_size": dist_info.world_size}
    if teacher_checkpoint:
        settings["distill"] = {"teacher_checkpoint": str(teacher_checkpoint), "alpha": kd_alpha,
                               "temperature": kd_temperature}
    # build everything that can fail on bad input before the run directory is written
    model = create_model(model_dict)
    flops, params = get_model_infos(model, data.input_shape)
    check_training_forward(model, data.input_shape)
    if init_model:
        model.load_state_dict(load_checkpoint(init_model)["task"]["model"])
    teacher = load_run_model(teacher_checkpoint)[0] if teacher_checkpoint else None

    run = RunDir(save_dir, is_main=dist_info.is_main, echo=echo)
    run.prepare(settings)
    run.log_environment()
    run.log(f"device={torch_device} amp={amp and torch_device.type == 'cuda'} settings=" + json.dumps(settings))
    run.log(f"model {model_dict['name']}: {flops:.4f} MFLOPs, {params:.6f} M parameters")
    if init_model:
        run.log(f"initialised the weights from {init_model}")
    model = prepare_model(model, torch_device)

    shard = dict(world_size=dist_info.world_size, rank=dist_info.rank, seed=seed)
    train_loader = make_loader(data.train, batch_size, shuffle=True, workers=workers, **shard)
    test_loader = make_loader(data.test, test_batch_size, shuffle=False, workers=workers)
    common = dict(amp=amp, dist_info=dist_info, eval_frequency=eval_frequency)
    if teacher is not None:
        task = DistillationTask(model, prepare_model(teacher, torch_device), optim_config, train_loader,
                                {"test": test_loader}, torch_device, alpha=kd_alpha, temperature=kd_temperature,
                                **common)
    else:
        task = ClassifierTask(model, optim_config, train_loader, {"test": test_loader}, torch_device, **common)
    try:
        history = Trainer(task, optim_config.total_epochs, run, progress=progress, score_key="test_top1").fit()
    finally:
        cleanup()
    final = history[-1] if history else {}
    run.log(f"finished: test_top1={final.get('test_top1', float('nan')):.2f} "
            f"best={max((h.get('test_top1', float('-inf')) for h in history), default=float('nan')):.2f}")
    return TrainResult(model, history)


def check_training_forward(model: nn.Module, input_shape: tuple[int, ...]) -> None:
    """One training-mode forward of two blank images of ``input_shape``, so that a model that cannot train on
    the data's size (an auxiliary head on a feature map smaller than its pooling) fails before the run directory
    is written.  The model's buffers (BatchNorm statistics) and the CPU random generator are restored."""
    buffers = [buffer.clone() for buffer in model.buffers()]
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        model.train()
        model(torch.zeros(2, *input_shape[1:]))
        for buffer, saved in zip(model.buffers(), buffers):
            buffer.copy_(saved)


def run_dir_of(checkpoint: str | os.PathLike) -> Path:
    """The run directory holding ``checkpoint`` (``<run>/checkpoint/*.pth``)."""
    return Path(checkpoint).resolve().parent.parent


def load_run_model(checkpoint: str | os.PathLike) -> tuple[nn.Module, dict[str, Any], dict[str, Any]]:
    """Rebuild a run's model from its ``config.json`` and load ``checkpoint``'s weights (on the CPU).

    Returns ``(model, settings, checkpoint state)``."""
    config_path = run_dir_of(checkpoint) / "config.json"
    state = load_checkpoint(checkpoint)
    if not config_path.is_file():
        raise CheckpointError(f"{config_path} not found; a checkpoint must stay inside its run directory "
                              "(<run>/checkpoint/last.pth) so that its config can be read")
    settings = json.loads(config_path.read_text())
    model = create_model(settings["model"])
    model.load_state_dict(state["task"]["model"])
    return model, settings, state


def evaluate_checkpoint(checkpoint: str | os.PathLike, *, dataset: str | None = None,
                        data_path: str | None = None, batch_size: int = 256, workers: int = 0,
                        device: str = "auto") -> dict[str, Any]:
    """Rebuild the model of a run, load ``checkpoint`` and evaluate it on the test set."""
    model, settings, state = load_run_model(checkpoint)
    torch_device = resolve_device(device)
    dataset = dataset or settings["dataset"]
    data = get_datasets(dataset, data_path)
    classes = settings["model"].get("num_classes")
    if classes is not None and classes != data.num_classes:
        raise CheckpointError(f"the model of {checkpoint} has {classes} classes but {dataset} has {data.num_classes}; "
                              f"evaluate it on a dataset with {classes} classes (it was trained on {settings['dataset']})")
    model = prepare_model(model, torch_device)
    criterion = build_criterion(OptimConfig(**settings["optim"]))
    loader = make_loader(data.test, batch_size, shuffle=False, workers=workers)
    result = evaluate(model, loader, criterion, torch_device, Precision(torch_device, True))
    # the checkpoint counts finished epochs; report the last one as metrics.jsonl and log.txt number it
    return {"checkpoint": str(checkpoint), "dataset": dataset, "epoch": state["epoch"] - 1,
            **{f"test_{k}": v for k, v in result.items()}}
