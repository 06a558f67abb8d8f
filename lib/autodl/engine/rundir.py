"""The run directory: ``config.json``, ``log.txt``, ``metrics.jsonl`` and ``checkpoint/``.

A run restarted on the same directory resumes from ``checkpoint/last.pth``; it refuses to resume
under a different config, since the result would belong to neither.  A directory without that
checkpoint trained nothing (for example a command that failed on bad input), so it takes the new config.
"""
from __future__ import annotations

import json
import os
from importlib.metadata import PackageNotFoundError, version
import platform
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import CheckpointError
from ..utils import atomic_write_text, make_dirs, time_string
from .distributed import rank0_value
from .seed import resolve_seed


def environment_info() -> dict[str, Any]:
    """Versions and devices, logged at the top of every run (torchvision's version from its metadata:
    importing it takes seconds, and the library only uses it to read ImageNet folders)."""
    info = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "torch": torch.__version__,
        "torchvision": _version("torchvision"),
        "numpy": np.__version__,
        "cuda_available": torch.cuda.is_available(),
        "cuda_devices": torch.cuda.device_count(),
        "cudnn": torch.backends.cudnn.version() if torch.cuda.is_available() else None,
        "threads": torch.get_num_threads(),
    }
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def _version(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None


class RunDir:
    """Files of one run; only the main process (rank 0) writes."""

    def __init__(self, path: str | os.PathLike, is_main: bool = True, echo: bool = True) -> None:
        self.path = Path(path)
        self.is_main, self.echo = is_main, echo
        self.config_path = self.path / "config.json"
        self.log_path = self.path / "log.txt"
        self.metrics_path = self.path / "metrics.jsonl"
        self.checkpoint_dir = self.path / "checkpoint"
        self.last_checkpoint = self.checkpoint_dir / "last.pth"
        self.best_checkpoint = self.checkpoint_dir / "best.pth"

    def prepare(self, config: dict[str, Any]) -> None:
        """Create the directory and write ``config.json``.

        With a checkpoint, an existing ``config.json`` must hold the same config (the run resumes);
        without one, nothing was trained, so a different (or unreadable) config is replaced and
        the replacement noted in ``log.txt``.
        """
        config = json.loads(json.dumps(config))  # as it reads back from the file
        changed = self._changed_keys(config)
        if changed != [] and self.last_checkpoint.is_file():
            if changed is None:
                raise CheckpointError(f"{self.config_path} is corrupt; delete the run directory or use another")
            raise CheckpointError(
                f"run directory {self.path} holds a run with a different config (differs in: "
                f"{', '.join(changed)}); use the same settings to resume or a new --save-dir"
            )
        if self.is_main:
            make_dirs(self.path)
            make_dirs(self.checkpoint_dir)
            atomic_write_text(self.config_path, json.dumps(config, indent=2) + "\n")
            if changed != []:
                what = ("an unreadable config.json" if changed is None
                        else f"a config that differs in: {', '.join(changed)}")
                self.log(f"replaced {what}, since the directory has no checkpoint/last.pth (nothing was trained)")

    def _changed_keys(self, config: dict[str, Any]) -> list[str] | None:
        """The keys in which the existing ``config.json`` differs from ``config``, dotted down to the
        differing values (``optim.LR``, ``seed``); [] when there is none or it is equal, None when it
        cannot be read as a JSON object."""
        if not self.config_path.is_file():
            return []
        try:
            previous = json.loads(self.config_path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None
        if not isinstance(previous, dict):
            return None
        return differing_keys(previous, config)

    def log(self, message: str, shown: str | None = None) -> None:
        """Append ``message`` to ``log.txt`` and, when echoing, print it (or ``shown``, a shorter form) on stdout."""
        stamp = time_string()
        if not self.is_main:
            return
        if self.echo:
            print(f"{stamp} {message if shown is None else shown}", flush=True)
        with open(self.log_path, "a") as handle:
            handle.write(f"{stamp} {message}\n")

    def log_environment(self) -> None:
        self.log("environment " + json.dumps(environment_info(), sort_keys=True))

    def append_metrics(self, record: dict[str, Any]) -> None:
        if self.is_main:
            with open(self.metrics_path, "a") as handle:
                handle.write(json.dumps(record) + "\n")

    def write_metrics(self, history: list[dict[str, Any]]) -> None:
        """Rewrite ``metrics.jsonl`` from a checkpoint's history (drops epochs a crash left behind)."""
        if self.is_main:
            atomic_write_text(self.metrics_path, "".join(json.dumps(r) + "\n" for r in history))

    def read_metrics(self) -> list[dict[str, Any]]:
        if not self.metrics_path.is_file():
            return []
        return [json.loads(line) for line in self.metrics_path.read_text().splitlines() if line.strip()]


def differing_keys(first: dict[str, Any], second: dict[str, Any], prefix: str = "") -> list[str]:
    """Sorted dotted keys whose values differ between two JSON objects (nested objects are compared key by key)."""
    keys = []
    for key in sorted(set(first) | set(second)):
        a, b = first.get(key), second.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            keys += differing_keys(a, b, f"{prefix}{key}.")
        elif a != b:
            keys.append(f"{prefix}{key}")
    return keys


def previous_seed(save_dir: Path) -> int | None:
    """The seed in an earlier run's ``config.json``, if there is a readable one (RunDir.prepare judges the rest)."""
    try:
        seed = json.loads((Path(save_dir) / "config.json").read_text()).get("seed")
    except (OSError, ValueError, AttributeError):
        return None
    return seed if isinstance(seed, int) else None


def run_seed(seed: int, save_dir: str | os.PathLike) -> int:
    """The seed of a run: ``seed`` if >= 0, else the one an earlier run in ``save_dir`` used, else a random
    one; under ``torchrun`` (call after joining the process group) every rank gets rank 0's."""
    if seed >= 0:
        return seed
    return rank0_value(previous_seed(Path(save_dir)) or resolve_seed(seed))

