"""ImageNet16-N: the 16x16 down-sampled ImageNet (Chrabaszcz et al., 2017), optionally restricted to classes 1..N.

Files (folder ``ImageNet16`` under the data root, or the root itself)::

    train_data_batch_1 .. train_data_batch_10, val_data

Each is a pickled dict with ``data`` (uint8, N x 768, channel-planar 3x16x16) and ``labels``
(1-based ints, 1..1000).  Every one of the 11 files is MD5-checked against
:data:`IMAGENET16_MD5` (or the ``checksums`` option) before anything is read.  ImageNet16-N keeps
the images whose label is in 1..N; labels are returned 0-based.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Mapping

import numpy as np

from ..errors import DataError
from .image_arrays import ImageArrayDataset, standard_transforms
from .registry import Datasets, register_dataset
from .safe_pickle import safe_load

IMAGENET16_TRAIN_FILES = tuple(f"train_data_batch_{i}" for i in range(1, 11))
IMAGENET16_TEST_FILES = ("val_data",)
IMAGENET16_MD5: dict[str, str] = {
    "train_data_batch_1": "27846dcaa50de8e21a7d1a35f30f0e91",
    "train_data_batch_2": "c7254a054e0e795c69120a5727050e3f",
    "train_data_batch_3": "4333d3df2e5ffb114b05d2ffc19b1e87",
    "train_data_batch_4": "1620cdf193304f4a92677b695d70d10f",
    "train_data_batch_5": "348b3c2fdbb3940c4e9e834affd3b18d",
    "train_data_batch_6": "6e765307c242a1b3d7d5ef9139b48945",
    "train_data_batch_7": "564926d8cbf8fc4818ba23d2faac7564",
    "train_data_batch_8": "f4755871f718ccb653440b9dd0ebac66",
    "train_data_batch_9": "bb6dd660c38c58552125b1a92f86b5d4",
    "train_data_batch_10": "8f03f34ac4b42271a294f91bf480f29b",
    "val_data": "3410e3017fdaefba8d5073aaa65e4bd6",
}
"""MD5 of the official files (the original repository's table)."""

IMAGENET16_MEAN = tuple(x / 255 for x in (122.68, 116.66, 104.01))
IMAGENET16_STD = tuple(x / 255 for x in (63.22, 61.26, 65.09))
IMAGENET16_HINT = (
    "download the 16x16 down-sampled ImageNet pickles (Imagenet16_train.zip and Imagenet16_val.zip from "
    "https://image-net.org/download-images, 'Downsampled ImageNet' by Chrabaszcz et al.) and unzip them "
    "so that train_data_batch_1..10 and val_data lie in $TORCH_HOME/cifar.python/ImageNet16 "
    "(or pass --data-path to that folder)"
)


def file_md5(path: Path, chunk_size: int = 1 << 20) -> str:
    """Hex MD5 digest of the file at ``path``."""
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def find_imagenet16_folder(root: Path, checksums: Mapping[str, str]) -> Path:
    """The folder holding all 11 files with the expected MD5s (``root`` or ``root/ImageNet16``), else a DataError."""
    root = Path(root).expanduser()
    folder = root if (root / IMAGENET16_TRAIN_FILES[0]).is_file() else root / "ImageNet16"
    names = IMAGENET16_TRAIN_FILES + IMAGENET16_TEST_FILES
    missing = [name for name in names if not (folder / name).is_file()]
    if missing:
        what = "does not exist" if not folder.is_dir() else f"lacks {', '.join(missing)}"
        raise DataError(f"ImageNet16: {folder} {what}; {IMAGENET16_HINT}")
    for name in names:
        actual = file_md5(folder / name)
        if actual != checksums[name]:
            raise DataError(
                f"ImageNet16: {folder / name} has MD5 {actual}, expected {checksums[name]}; the file is corrupt "
                f"or not the official one, {IMAGENET16_HINT}"
            )
    return folder


def read_imagenet16(folder: Path, files: tuple[str, ...], num_classes: int | None) -> tuple[np.ndarray, np.ndarray]:
    """uint8 images (N, 3, 16, 16) and 0-based labels of ``files``, keeping labels 1..``num_classes`` if given."""
    images, labels = [], []
    for name in files:
        path = folder / name
        with open(path, "rb") as handle:
            entry = safe_load(handle, advice=IMAGENET16_HINT)
        if not isinstance(entry, dict) or "data" not in entry or "labels" not in entry:
            raise DataError(f"{path} is not an ImageNet16 batch (expected a dict with 'data' and 'labels'); "
                            f"{IMAGENET16_HINT}")
        data = np.asarray(entry["data"])
        batch_labels = np.asarray(entry["labels"], dtype=np.int64)
        if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 768 or len(data) != len(batch_labels):
            raise DataError(f"{path} holds data of shape {data.shape} ({data.dtype}) with {len(batch_labels)} "
                            f"labels, expected uint8 N x 768 with N labels; {IMAGENET16_HINT}")
        if num_classes is not None:
            keep = (batch_labels >= 1) & (batch_labels <= num_classes)
            data, batch_labels = data[keep], batch_labels[keep]
        images.append(data.reshape(-1, 3, 16, 16))
        labels.append(batch_labels - 1)
    return np.concatenate(images), np.concatenate(labels)


def build_imagenet16(root: Path, cutout: int, num_classes: int | None = None,
                     checksums: Mapping[str, str] | None = None) -> Datasets:
    """Train set (flip + crop 16 pad 2 + normalise [+ cutout]) and test set (``val_data``) of ImageNet16-N.

    ``num_classes`` None keeps all 1,000 classes; ``checksums`` replaces :data:`IMAGENET16_MD5`
    (used for generated test files).
    """
    folder = find_imagenet16_folder(root, IMAGENET16_MD5 if checksums is None else checksums)
    train_transform, test_transform = standard_transforms(16, 2, IMAGENET16_MEAN, IMAGENET16_STD, cutout)
    train = ImageArrayDataset(*read_imagenet16(folder, IMAGENET16_TRAIN_FILES, num_classes), train_transform)
    test = ImageArrayDataset(*read_imagenet16(folder, IMAGENET16_TEST_FILES, num_classes), test_transform)
    return Datasets(train, test, (1, 3, 16, 16), num_classes or 1000)


def _register(name: str, num_classes: int | None) -> None:
    def builder(root: Path, cutout: int, checksums: Mapping[str, str] | None = None) -> Datasets:
        return build_imagenet16(root, cutout, num_classes, checksums)

    builder.__doc__ = f"{name}: ImageNet16 restricted to {num_classes or 1000} classes."
    register_dataset(name)(builder)


for _name, _classes in (("ImageNet16", None), ("ImageNet16-120", 120), ("ImageNet16-150", 150), ("ImageNet16-200", 200)):
    _register(_name, _classes)
