"""Build NAS-Bench-201 results: train one architecture per (index, seed) with the benchmark recipes.

Every (architecture, seed) is trained on each chosen dataset setting with the shared engine
(``ClassifierTask`` on the ``Trainer``), and its runs are written to one file
``hp<hp>/arch-<index:06d>-seed-<seed>.pth`` holding, per setting, the official ``ResultsCount``
state (spec 4.5).  Files are written atomically; finished ones are skipped, and an unfinished one
resumes from its per-epoch checkpoints, so a killed build simply restarts.  :mod:`.merge` turns the
files into the official-layout dict and our store.
"""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ...config import OptimConfig, config_to_dict, load_config
from ...data import BENCHMARK_SETTINGS, BenchmarkData, get_benchmark_data
from ...data.loader import make_loader
from ...engine.checkpoint import load_checkpoint, save_checkpoint
from ...engine.classification import ClassifierTask, split_outputs, to_device
from ...engine.device import Precision, prepare_model, resolve_device, synchronize
from ...engine.distributed import env_dist_info, local_device
from ...engine.flops import get_model_infos
from ...engine.rundir import RunDir, environment_info
from ...engine.seed import seed_everything
from ...engine.trainer import Trainer
from ...errors import AutoDLError, CheckpointError
from ...models import create_model
from ...spaces.nb201 import NUM_ARCHS, index_to_arch

RESULT_FORMAT = "autodl-nb201-result"
RESULT_VERSION = 1
HPS = ("12", "200")
DEFAULT_SEEDS = {"12": (111, 777), "200": (777, 888, 999)}
"""Seeds of the released files (spec 4.3): 12-epoch runs 111 and 777, 200-epoch runs 777, 888, 999."""
OFFICIAL_SETTINGS = ("cifar10-valid", "cifar10", "cifar100", "ImageNet16-120")
BUILD_SETTINGS = tuple(BENCHMARK_SETTINGS)
"""The official settings and their offline digits stand-ins (``autodl.data.BENCHMARK_SETTINGS``)."""


class BuildError(AutoDLError):
    """A benchmark build was asked for something impossible (bad range, shard, setting, result file)."""


# ----------------------------------------------------------------------------------------- settings
def open_setting(setting: str, root: str | os.PathLike | None = None, digits_size: int = 32) -> BenchmarkData:
    """The training set and the evaluation sets of ``setting``, evaluation sets in the official order."""
    if setting not in BUILD_SETTINGS:
        raise BuildError(f"unknown dataset setting {setting!r}; expected one of {', '.join(BUILD_SETTINGS)}")
    options = {"image_size": digits_size} if BENCHMARK_SETTINGS[setting] == "digits" else {}
    data = get_benchmark_data(setting, root, **options)
    order = ("x-valid", "ori-test") if setting.endswith("-valid") else ("ori-test", "x-valid", "x-test")
    names = [name for name in order if name in data.evaluations]
    names += [name for name in data.evaluations if name not in names]
    return data._replace(evaluations={name: data.evaluations[name] for name in names})


def recipe_name(hp: str, setting: str) -> str:
    """The recipe file of ``hp`` on ``setting``: LESS (12 epochs), else CIFAR or ImageNet-16 (200 epochs)."""
    if hp == "12":
        return "LESS"
    return "ImageNet-16" if setting.startswith("ImageNet16") else "CIFAR"


# ------------------------------------------------------------------------------------------- config
@dataclass(frozen=True)
class BuildConfig:
    """What a build trains and records.  Two builds with equal :meth:`fingerprint` produce interchangeable files.

    ``epochs``/``batch_size`` override the recipe (for small demos); ``recipes_dir`` holds
    ``LESS.json``, ``CIFAR.json`` and ``ImageNet-16.json`` (``configs/nas-benchmark`` of the repository).
    """

    settings: tuple[str, ...]
    recipes_dir: Path
    hp: str = "200"
    seeds: tuple[int, ...] = ()
    channel: int = 16
    num_cells: int = 5
    epochs: int | None = None
    batch_size: int | None = None
    test_batch_size: int | None = None
    digits_size: int = 32
    amp: bool = False

    def __post_init__(self) -> None:
        if self.hp not in HPS:
            raise BuildError(f"hp {self.hp!r} is unknown; expected '12' (LESS recipe) or '200' (CIFAR/ImageNet-16 recipe)")
        if not self.settings or len(set(self.settings)) != len(self.settings):
            raise BuildError(f"settings {list(self.settings)} must be a non-empty list without repeats; "
                             f"choose from {', '.join(BUILD_SETTINGS)}")
        for setting in self.settings:
            if setting not in BUILD_SETTINGS:
                raise BuildError(f"unknown dataset setting {setting!r}; expected one of {', '.join(BUILD_SETTINGS)}")
        if not self.seeds:
            object.__setattr__(self, "seeds", DEFAULT_SEEDS[self.hp])
        if len(set(self.seeds)) != len(self.seeds) or any(seed < 0 for seed in self.seeds):
            raise BuildError(f"seeds {list(self.seeds)} must be distinct non-negative integers")
        for name in ("channel", "num_cells", "epochs", "batch_size", "test_batch_size"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise BuildError(f"{name} must be a positive integer, got {value}")
        if self.digits_size not in (8, 16, 32):
            raise BuildError(f"digits image size must be 8, 16 or 32, got {self.digits_size}")
        object.__setattr__(self, "recipes_dir", Path(self.recipes_dir))

    def recipe(self, setting: str) -> OptimConfig:
        """The optimiser recipe of ``setting`` with this build's epoch and batch overrides."""
        path = self.recipes_dir / f"{recipe_name(self.hp, setting)}.json"
        if not path.is_file():
            raise BuildError(f"recipe {path} does not exist; pass the folder holding LESS.json, CIFAR.json and "
                             "ImageNet-16.json (configs/nas-benchmark of the repository)")
        optim = load_config(OptimConfig, path)
        changes = {key: value for key, value in (("epochs", self.epochs), ("batch_size", self.batch_size),
                                                  ("test_batch_size", self.test_batch_size)) if value is not None}
        return dataclasses.replace(optim, **changes)

    def fingerprint(self) -> dict[str, Any]:
        """The recorded settings a finished result file must match to be reused."""
        return {"settings": list(self.settings), "hp": self.hp, "channel": self.channel, "num_cells": self.num_cells,
                "digits_size": self.digits_size, "amp": self.amp,
                "optim": {setting: config_to_dict(self.recipe(setting)) for setting in self.settings}}


@dataclass(frozen=True)
class Runtime:
    """Where and how to run (not recorded in the results): data root, device, loader workers, logging."""

    data_root: str | None = None
    device: str = "auto"
    workers: int = 0
    verbose: bool = True
    progress: bool | None = None


# --------------------------------------------------------------------------------- index selection
def parse_shard(text: str) -> tuple[int, int]:
    """``"i/n"`` -> ``(i, n)`` with ``0 <= i < n``."""
    parts = text.split("/")
    try:
        shard, count = (int(part) for part in parts)
    except ValueError:
        raise BuildError(f"shard {text!r} is malformed; expected i/n with integers, for example 0/4") from None
    if count < 1 or not 0 <= shard < count:
        raise BuildError(f"shard {text!r} is out of range; expected i/n with n >= 1 and 0 <= i < n")
    return shard, count


def select_indexes(start: int, end: int, shard: tuple[int, int] = (0, 1),
                   process: tuple[int, int] = (0, 1)) -> list[int]:
    """The indexes of ``start..end`` (inclusive) that shard ``i/n`` takes (every n-th from the i-th),
    split again over the processes of this machine (``rank/world_size`` under ``torchrun``)."""
    if not 0 <= start <= end < NUM_ARCHS:
        raise BuildError(f"index range {start}..{end} is invalid; expected 0 <= start <= end <= {NUM_ARCHS - 1}")
    return shard_indexes(list(range(start, end + 1)), shard, process)


def shard_indexes(indexes: Sequence[int], shard: tuple[int, int] = (0, 1),
                  process: tuple[int, int] = (0, 1)) -> list[int]:
    """The part of ``indexes`` that shard ``i/n`` and then process ``rank/world_size`` take."""
    for (part, count), name in ((shard, "shard"), (process, "process")):
        if count < 1 or not 0 <= part < count:
            raise BuildError(f"{name} {part}/{count} is out of range; expected i/n with n >= 1 and 0 <= i < n")
    return list(indexes)[shard[0]::shard[1]][process[0]::process[1]]


def torchrun_process() -> tuple[int, int]:
    """``(rank, world_size)`` from the environment ``torchrun`` sets, ``(0, 1)`` outside it."""
    info = env_dist_info()
    return info.rank, info.world_size


def process_device(device: str) -> torch.device:
    """The device of this process: under ``torchrun`` on CUDA, GPU ``LOCAL_RANK`` (archs are split, not batches)."""
    return local_device(resolve_device(device), env_dist_info())


# ------------------------------------------------------------------------------------- result files
def hp_folder(results_dir: str | os.PathLike, hp: str) -> Path:
    """The folder of one recipe's result files inside a build's output directory."""
    return Path(results_dir) / f"hp{hp}"


def result_path(results_dir: str | os.PathLike, hp: str, index: int, seed: int) -> Path:
    return hp_folder(results_dir, hp) / f"arch-{index:06d}-seed-{seed}.pth"


def load_result(path: str | os.PathLike, mmap: bool = False) -> dict[str, Any]:
    """Read one result file (tensors and plain containers only) and check its format.

    ``mmap`` maps the weights instead of reading them: cheap when only the curves or settings are needed.
    """
    try:
        result = load_checkpoint(path, mmap=mmap)
    except CheckpointError as error:  # missing, corrupt, or holding code
        raise BuildError(f"result file {path} cannot be read ({error}); delete it and train it again") from None
    if not isinstance(result, dict) or result.get("format") != RESULT_FORMAT or result.get("version") != RESULT_VERSION:
        raise BuildError(f"{path} is not a version-{RESULT_VERSION} {RESULT_FORMAT} file; "
                         "delete it or rebuild it with exps/NAS-Bench-201/build.py train")
    return result


# ----------------------------------------------------------------------------------------- training
@torch.no_grad()
def measure_latency(model: nn.Module, loaders: Iterable[Iterable], batch_size: int, device: torch.device,
                    precision: Precision) -> list[float] | None:
    """Seconds per forward pass of each full-size evaluation batch (data loading excluded), the first one
    dropped as warm-up (spec 4.3); None when fewer than two full-size batches exist."""
    was_training = model.training
    model.eval()
    times = []
    for loader in loaders:
        for inputs, _ in loader:
            if len(inputs) != batch_size:
                continue
            inputs = to_device(inputs, device)
            synchronize(device)
            began = time.perf_counter()
            with precision.autocast():
                split_outputs(model(inputs))
            synchronize(device)
            times.append(time.perf_counter() - began)
    model.train(was_training)
    return times[1:] or None


def results_count_state(setting: str, arch_str: str, seed: int, config: BuildConfig, history: list[dict[str, Any]],
                        eval_names: Sequence[str], num_classes: int, flops: float, params: float,
                        latency: list[float] | None, weights: dict[str, torch.Tensor]) -> dict[str, Any]:
    """The official ``ResultsCount`` state (spec 4.5) of one run, from the Trainer's per-epoch records."""
    epochs = range(len(history))
    state: dict[str, Any] = {
        "name": setting,
        "net_state_dict": weights,
        "train_acc1es": {epoch: history[epoch]["train_top1"] for epoch in epochs},
        "train_acc5es": {epoch: history[epoch]["train_top5"] for epoch in epochs},
        "train_losses": {epoch: history[epoch]["train_loss"] for epoch in epochs},
        "train_times": {epoch: history[epoch]["train_time_s"] for epoch in epochs},
        "arch_config": {"channel": config.channel, "num_cells": config.num_cells, "arch_str": arch_str,
                        "class_num": num_classes},
        "params": params, "flop": flops, "seed": seed, "epochs": len(history), "latency": latency,
        "eval_names": list(eval_names), "eval_acc1es": {}, "eval_times": {}, "eval_losses": {},
    }
    for name in eval_names:
        for epoch in epochs:
            key = f"{name}@{epoch}"
            state["eval_acc1es"][key] = history[epoch][f"{name}_top1"]
            state["eval_losses"][key] = history[epoch][f"{name}_loss"]
            state["eval_times"][key] = history[epoch][f"{name}_time_s"]
    return state


def train_setting(index: int, seed: int, setting: str, config: BuildConfig, runtime: Runtime,
                  work_dir: Path, device: torch.device) -> tuple[dict[str, Any], dict[str, float]]:
    """Train architecture ``index`` with ``seed`` on ``setting``; returns its ``ResultsCount`` state and the
    top-5 accuracy of every ``"<set>@<epoch>"`` (which the official state does not hold).

    Each epoch is checkpointed in ``work_dir``, so a killed run resumes at its last finished epoch.
    """
    arch_str = str(index_to_arch(index))
    optim = config.recipe(setting)
    seed_everything(seed)
    data = open_setting(setting, runtime.data_root, config.digits_size)
    model = create_model({"name": "infer.tiny", "C": config.channel, "N": config.num_cells, "arch_str": arch_str,
                          "num_classes": data.num_classes})
    flops, params = get_model_infos(model, data.input_shape)
    model = prepare_model(model, device)
    batch_size = optim.batch_size or 256
    test_batch_size = optim.test_batch_size or batch_size
    train_loader = make_loader(data.train, batch_size, shuffle=True, workers=runtime.workers)
    eval_loaders = {name: make_loader(dataset, test_batch_size, shuffle=False, workers=runtime.workers)
                    for name, dataset in data.evaluations.items()}
    task = ClassifierTask(model, optim, train_loader, eval_loaders, device, amp=config.amp)
    run = RunDir(work_dir, echo=runtime.verbose)
    run.prepare({"index": index, "seed": seed, "setting": setting, **config.fingerprint()})
    history = Trainer(task, optim.total_epochs, run, progress=runtime.progress).fit()
    latency = measure_latency(model, eval_loaders.values(), test_batch_size, device, task.precision)
    weights = {key: value.detach().cpu().clone() for key, value in model.state_dict().items()}
    state = results_count_state(setting, arch_str, seed, config, history, list(eval_loaders), data.num_classes,
                                flops, params, latency, weights)
    top5 = {f"{name}@{epoch}": history[epoch][f"{name}_top5"] for name in eval_loaders for epoch in range(len(history))}
    return state, top5


def train_arch_seed(index: int, seed: int, config: BuildConfig, runtime: Runtime, results_dir: str | os.PathLike,
                    device: torch.device | None = None, fresh: bool = False) -> Path:
    """Train one (architecture, seed) on every setting of ``config`` and write its result file atomically.

    An interrupted earlier attempt resumes from its per-epoch checkpoints unless ``fresh``.
    """
    device = device or resolve_device(runtime.device)
    path = result_path(results_dir, config.hp, index, seed)
    work = hp_folder(results_dir, config.hp) / ".work" / path.stem
    if fresh:
        shutil.rmtree(work, ignore_errors=True)
    results, top5 = {}, {}
    for setting in config.settings:
        results[setting], top5[setting] = train_setting(index, seed, setting, config, runtime, work / setting, device)
    result = {"format": RESULT_FORMAT, "version": RESULT_VERSION, "arch_index": index,
              "arch_str": str(index_to_arch(index)), "seed": seed, "hp": config.hp, "datasets": list(config.settings),
              "results": results, "eval_acc5es": top5, "config": config.fingerprint(),
              "machine": json.loads(json.dumps(environment_info(), default=str)), "finished": True}
    save_checkpoint(result, path)
    shutil.rmtree(work, ignore_errors=True)
    return path


def is_finished(path: Path, config: BuildConfig) -> bool:
    """Whether ``path`` holds a finished result of this build; a result of other settings is an error."""
    if not path.is_file():
        return False
    result = load_result(path, mmap=True)
    if result.get("config") != config.fingerprint():
        raise BuildError(f"{path} was trained with other settings (channel, cells, datasets or recipe); "
                         "use the same settings, another output folder, or --cover to retrain it")
    return bool(result.get("finished"))


def build(indexes: Sequence[int], config: BuildConfig, runtime: Runtime, results_dir: str | os.PathLike,
          cover: bool = False, device: torch.device | None = None,
          on_done: Callable[[int, int, Path, bool], None] | None = None) -> list[Path]:
    """Train every (index, seed) of ``indexes`` x ``config.seeds``; finished files are skipped unless ``cover``
    (which also restarts unfinished ones from scratch).

    ``on_done(index, seed, path, trained)`` is called after each pair; returns the result files.
    """
    for index in indexes:
        index_to_arch(index)  # validate every index before training anything
    device = device or resolve_device(runtime.device)
    paths = []
    for index in indexes:
        for seed in config.seeds:
            path = result_path(results_dir, config.hp, index, seed)
            trained = cover or not is_finished(path, config)
            if trained:
                train_arch_seed(index, seed, config, runtime, results_dir, device, fresh=cover)
            paths.append(path)
            if on_done is not None:
                on_done(index, seed, path, trained)
    return paths
