"""CIFAR-10 and CIFAR-100 read from the official python-pickle folders, kept as uint8 arrays.

Layout under the data root (``--data-path``, default ``$TORCH_HOME/cifar.python``)::

    cifar-10-batches-py/   data_batch_1 .. data_batch_5, test_batch, batches.meta
    cifar-100-python/      train, test, meta

Each batch is a pickled dict with ``data`` (uint8, N x 3072, channel-planar 3x32x32) and
``labels`` (CIFAR-10) or ``fine_labels`` (CIFAR-100).  Files are read with :func:`safe_load`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError
from .image_arrays import ImageArrayDataset, standard_transforms
from .registry import Datasets, register_dataset
from .safe_pickle import safe_load

CIFAR_URL = "https://www.cs.toronto.edu/~kriz/cifar.html"


@dataclass(frozen=True)
class CifarLayout:
    """Where one CIFAR variant lives on disk and how its pickles name things."""

    name: str
    folder: str
    archive: str
    train_files: tuple[str, ...]
    test_files: tuple[str, ...]
    meta_file: str
    label_key: str
    num_classes: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]


CIFAR10 = CifarLayout(
    "cifar10", "cifar-10-batches-py", "cifar-10-python.tar.gz",
    tuple(f"data_batch_{i}" for i in range(1, 6)), ("test_batch",), "batches.meta", "labels", 10,
    tuple(x / 255 for x in (125.3, 123.0, 113.9)), tuple(x / 255 for x in (63.0, 62.1, 66.7)),
)
CIFAR100 = CifarLayout(
    "cifar100", "cifar-100-python", "cifar-100-python.tar.gz",
    ("train",), ("test",), "meta", "fine_labels", 100,
    tuple(x / 255 for x in (129.3, 124.1, 112.4)), tuple(x / 255 for x in (68.2, 65.4, 70.4)),
)


def find_cifar_folder(root: Path, layout: CifarLayout) -> Path:
    """``root/<folder>`` (or ``root`` itself if it is that folder) holding every file, else a DataError."""
    root = Path(root).expanduser()
    folder = root if root.name == layout.folder else root / layout.folder
    needed = layout.train_files + layout.test_files + (layout.meta_file,)
    missing = [name for name in needed if not (folder / name).is_file()]
    if missing:
        what = "does not exist" if not folder.is_dir() else f"lacks {', '.join(missing)}"
        raise DataError(
            f"{layout.name}: {folder} {what}; download {layout.archive} (python version) from {CIFAR_URL} "
            f"and extract it into {folder.parent} (or pass --data-path to the folder that holds {layout.folder})"
        )
    return folder


def read_cifar_batches(folder: Path, files: tuple[str, ...], layout: CifarLayout) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate the pickled batches ``files`` into uint8 images (N, 3, 32, 32) and int64 labels."""
    images, labels = [], []
    for name in files:
        path = folder / name
        with open(path, "rb") as handle:
            entry = safe_load(handle, advice=f"download {layout.archive} again from {CIFAR_URL} and extract it")
        if not isinstance(entry, dict) or "data" not in entry or layout.label_key not in entry:
            raise DataError(f"{path} is not a {layout.name} batch (expected a dict with 'data' and "
                            f"'{layout.label_key}'); download {layout.archive} again from {CIFAR_URL}")
        data = np.asarray(entry["data"])
        batch_labels = np.asarray(entry[layout.label_key], dtype=np.int64)
        if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072 or len(data) != len(batch_labels):
            raise DataError(f"{path} holds data of shape {data.shape} ({data.dtype}) with {len(batch_labels)} labels, "
                            f"expected uint8 N x 3072 with N labels; download {layout.archive} again from {CIFAR_URL}")
        images.append(data.reshape(-1, 3, 32, 32))
        labels.append(batch_labels)
    all_labels = np.concatenate(labels)
    if len(all_labels) and (all_labels.min() < 0 or all_labels.max() >= layout.num_classes):
        raise DataError(f"{folder} has labels outside 0..{layout.num_classes - 1}; "
                        f"download {layout.archive} again from {CIFAR_URL}")
    return np.concatenate(images), all_labels


def build_cifar(layout: CifarLayout, root: Path, cutout: int) -> Datasets:
    """Train set (flip + crop 32 pad 4 + normalise [+ cutout]) and test set (normalise) of ``layout``."""
    folder = find_cifar_folder(root, layout)
    train_transform, test_transform = standard_transforms(32, 4, layout.mean, layout.std, cutout)
    train = ImageArrayDataset(*read_cifar_batches(folder, layout.train_files, layout), train_transform)
    test = ImageArrayDataset(*read_cifar_batches(folder, layout.test_files, layout), test_transform)
    return Datasets(train, test, (1, 3, 32, 32), layout.num_classes)


register_dataset("cifar10")(lambda root, cutout: build_cifar(CIFAR10, root, cutout))
register_dataset("cifar100")(lambda root, cutout: build_cifar(CIFAR100, root, cutout))
