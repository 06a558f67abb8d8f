"""The dataset registry and :func:`get_datasets`, the one way to open a dataset by name."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, NamedTuple

from torch.utils.data import Dataset

from ..registry import Registry
from ..utils import torch_home


class Datasets(NamedTuple):
    """What :func:`get_datasets` returns; unpacks like the original ``train, test, xshape, class_num``."""

    train: Dataset
    test: Dataset
    input_shape: tuple[int, int, int, int]
    num_classes: int


DATASETS: Registry[Callable[..., Datasets]] = Registry("dataset")


def register_dataset(name: str):
    """Decorator registering ``builder(root: Path, cutout: int) -> Datasets`` under ``name``."""
    return DATASETS.register(name)


def default_data_root() -> Path:
    """``$TORCH_HOME/cifar.python`` like the original (``TORCH_HOME`` defaults to ``~/.cache/torch``)."""
    return torch_home() / "cifar.python"


def get_datasets(name: str, root: str | os.PathLike | None = None, cutout: int = 0, **options: Any) -> Datasets:
    """Open dataset ``name``: train set (training augmentation, + cutout if > 0), test set, input shape, classes."""
    builder = DATASETS.get(name)
    return builder(Path(root) if root is not None else default_data_root(), cutout, **options)
