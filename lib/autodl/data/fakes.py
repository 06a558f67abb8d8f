"""Small fake datasets written in the exact on-disk formats, so every loader is tested end to end offline.

* ``write_fake_cifar10``: ``cifar-10-batches-py/`` with ``data_batch_1..5``, ``test_batch``, ``batches.meta``.
* ``write_fake_cifar100``: ``cifar-100-python/`` with ``train``, ``test``, ``meta``.
* ``write_fake_imagenet16``: ``ImageNet16/`` with ``train_data_batch_1..10`` and ``val_data``;
  returns the MD5 table of the written files, to pass as the ``checksums`` option.
* ``write_fake_imagenet_folder``: ``train/<class>/*.png`` and ``val/<class>/*.png``.

:data:`FAKE_SETS` holds the CIFAR-10, CIFAR-100 and ImageNet16 writers with default sizes that fit the
shipped splits (``exps/prepare.py fake-cifar10 DIR`` and the like write them).

Pickles hold the same dicts (keys, dtypes, channel-planar uint8 rows) as the official files; they
are written by Python 3 with protocol 2.  Pixels are random (seeded); labels are deterministic:
image ``i`` of a split has label ``i % num_classes`` (ImageNet16: ``i % 1000 + 1``, 1-based).
"""
from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any, Callable, NamedTuple

import numpy as np

from .cifar import CIFAR10, CIFAR100
from .imagenet16 import IMAGENET16_TEST_FILES, IMAGENET16_TRAIN_FILES, file_md5


def _dump(obj: dict, path: Path) -> None:
    with open(path, "wb") as handle:
        pickle.dump(obj, handle, protocol=2)


def _pixels(rng: np.random.Generator, count: int, row: int) -> np.ndarray:
    return np.frombuffer(rng.bytes(count * row), dtype=np.uint8).reshape(count, row).copy()


def _chunks(count: int, parts: int) -> list[range]:
    bounds = np.linspace(0, count, parts + 1).astype(int)
    return [range(bounds[i], bounds[i + 1]) for i in range(parts)]


def write_fake_cifar10(root: str | Path, n_train: int = 500, n_test: int = 100, seed: int = 0) -> Path:
    """Write a fake ``cifar-10-batches-py`` under ``root`` (``n_train`` images over 5 batches); return the folder."""
    folder = Path(root) / CIFAR10.folder
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    train_labels = np.arange(n_train) % 10
    for number, part in enumerate(_chunks(n_train, 5), start=1):
        _dump({"batch_label": f"training batch {number} of 5", "labels": train_labels[part.start:part.stop].tolist(),
               "data": _pixels(rng, len(part), 3072), "filenames": [f"fake_{i}.png" for i in part]},
              folder / f"data_batch_{number}")
    _dump({"batch_label": "testing batch 1 of 1", "labels": (np.arange(n_test) % 10).tolist(),
           "data": _pixels(rng, n_test, 3072), "filenames": [f"fake_test_{i}.png" for i in range(n_test)]},
          folder / "test_batch")
    _dump({"num_cases_per_batch": max(1, n_train // 5), "num_vis": 3072,
           "label_names": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]},
          folder / "batches.meta")
    return folder


def write_fake_cifar100(root: str | Path, n_train: int = 500, n_test: int = 200, seed: int = 0) -> Path:
    """Write a fake ``cifar-100-python`` (``train``, ``test``, ``meta``) under ``root``; return the folder."""
    folder = Path(root) / CIFAR100.folder
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for name, count in (("train", n_train), ("test", n_test)):
        fine = (np.arange(count) % 100).tolist()
        _dump({"filenames": [f"fake_{name}_{i}.png" for i in range(count)], "batch_label": f"{name}ing batch 1 of 1",
               "fine_labels": fine, "coarse_labels": [label // 5 for label in fine],
               "data": _pixels(rng, count, 3072)}, folder / name)
    _dump({"fine_label_names": [f"class_{i}" for i in range(100)],
           "coarse_label_names": [f"superclass_{i}" for i in range(20)]}, folder / "meta")
    return folder


def write_fake_imagenet16(root: str | Path, n_train: int = 2000, n_test: int = 1000, seed: int = 0) -> dict[str, str]:
    """Write a fake ``ImageNet16`` folder under ``root`` (``n_train`` images over 10 batches); return its MD5 table."""
    folder = Path(root) / "ImageNet16"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    train_labels = np.arange(n_train) % 1000 + 1
    for name, part in zip(IMAGENET16_TRAIN_FILES, _chunks(n_train, 10)):
        data = _pixels(rng, len(part), 768)
        _dump({"data": data, "labels": train_labels[part.start:part.stop].tolist(),
               "mean": data.mean(axis=0) if len(part) else np.zeros(768)}, folder / name)
    _dump({"data": _pixels(rng, n_test, 768), "labels": (np.arange(n_test) % 1000 + 1).tolist()},
          folder / IMAGENET16_TEST_FILES[0])
    return {name: file_md5(folder / name) for name in IMAGENET16_TRAIN_FILES + IMAGENET16_TEST_FILES}


def write_fake_imagenet_folder(root: str | Path, num_classes: int = 3, per_class: int = 2, size: int = 64,
                               seed: int = 0) -> Path:
    """Write ``root/train`` and ``root/val`` ImageFolder trees of random ``size`` x ``size`` PNGs; return ``root``."""
    from PIL import Image

    root = Path(root)
    rng = np.random.default_rng(seed)
    for split in ("train", "val"):
        for label in range(num_classes):
            folder = root / split / f"n{label:08d}"
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(per_class):
                pixels = rng.integers(0, 256, size=(size, size, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(folder / f"image_{i}.png")
    return root


class FakeSet(NamedTuple):
    """A fake-data writer, its default sizes and the part (``"train"`` or ``"test"``) that a shipped split indexes."""

    write: Callable[..., Any]
    n_train: int
    n_test: int
    split_part: str
    split_rule: str

    def split_problem(self, n_train: int, n_test: int) -> str | None:
        """What breaks when a set of ``n_train``/``n_test`` images is written: the shipped split no longer
        indexes that part exactly (None when it does)."""
        fits = n_train == self.n_train if self.split_part == "train" else n_test == self.n_test
        return None if fits else self.split_rule


FAKE_SETS: dict[str, FakeSet] = {
    "cifar10": FakeSet(write_fake_cifar10, 50000, 1000, "train",
                       "the cifar10-valid setting and the cifar10 search split 50000 training images 25k/25k"),
    "cifar100": FakeSet(write_fake_cifar100, 5000, 10000, "test",
                        "the cifar100 x-valid/x-test halves index 10000 test images"),
    "ImageNet16": FakeSet(write_fake_imagenet16, 12000, 50000, "test",
                          "the ImageNet16-120 x-valid/x-test halves index the 6000 val images of classes 1-120, "
                          "which 50000 val images hold"),
}
"""Writers by dataset; the default sizes fit the shipped splits (CIFAR-10's train/valid halves, the CIFAR-100
and ImageNet16-120 test halves) exactly, so every setting and search split of the dataset opens on the
fake set; the other part is kept small."""
