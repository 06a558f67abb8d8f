"""The built-in ``digits`` dataset: scikit-learn's 8x8 handwritten digits, shipped with the package.

1,797 grey images of the digits 0-9 (the UCI "Optical Recognition of Handwritten Digits" test
set, as bundled with scikit-learn; CC BY 4.0, E. Alpaydin and C. Kaynak).  The copy in
``resources/digits.npz`` holds the images (values 0-16), labels and a fixed split: 1,077 train,
360 valid, 360 test images.  Images are scaled to 0-255, resized (bilinear, OpenCV) to
``image_size`` and repeated to 3 channels so that they stand in for CIFAR anywhere.
"""
from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

import cv2
import numpy as np
import torch

from ..errors import DataError
from .image_arrays import ImageArrayDataset
from .registry import Datasets, register_dataset
from .transforms import ImagePipeline


@lru_cache(maxsize=None)
def load_digits_arrays() -> dict[str, np.ndarray]:
    """The raw arrays of the shipped file: images (N, 8, 8) uint8 0-16, labels, split indices."""
    with resources.files(__package__).joinpath("resources/digits.npz").open("rb") as handle:
        with np.load(handle) as data:
            return {key: data[key] for key in data.files}


def digits_split() -> tuple[list[int], list[int]]:
    """The fixed train/valid split as positions in the ``digits`` training set (1,077 / 360)."""
    arrays = load_digits_arrays()
    train_part = np.concatenate([arrays["train_index"], arrays["valid_index"]])
    order = np.argsort(train_part, kind="stable")  # the training set is sorted by original index
    position = np.empty_like(order)
    position[order] = np.arange(len(order))
    n_train = len(arrays["train_index"])
    return sorted(position[:n_train].tolist()), sorted(position[n_train:].tolist())


def _resize(images: np.ndarray, size: int) -> torch.Tensor:
    scaled = (images.astype(np.float32) * (255.0 / 16.0)).round().astype(np.uint8)
    resized = np.stack([cv2.resize(img, (size, size), interpolation=cv2.INTER_LINEAR) for img in scaled])
    return torch.from_numpy(resized).unsqueeze(1).expand(-1, 3, -1, -1).contiguous()


def build_digits(root: Path, cutout: int, image_size: int = 32) -> Datasets:
    """Train set = train + valid parts (1,437 images), test set = 360 images; ``root`` is not used."""
    if image_size not in (8, 16, 32):
        raise DataError(f"digits image_size must be 8, 16 or 32, got {image_size}")
    arrays = load_digits_arrays()
    train_index = np.sort(np.concatenate([arrays["train_index"], arrays["valid_index"]]))
    images = _resize(arrays["images"], image_size)
    labels = torch.from_numpy(arrays["labels"])
    train_images = images[train_index].float() / 255.0
    mean = train_images.mean(dim=(0, 2, 3)).tolist()
    std = train_images.std(dim=(0, 2, 3)).tolist()
    # crop with zero padding (+ cutout), no flips: they change digits
    augment = ImagePipeline(mean, std, crop_size=image_size, padding=image_size // 8, cutout=cutout)
    test_index = arrays["test_index"]
    train = ImageArrayDataset(images[train_index], labels[train_index], augment)
    test = ImageArrayDataset(images[test_index], labels[test_index], ImagePipeline(mean, std))
    return Datasets(train, test, (1, 3, image_size, image_size), 10)


register_dataset("digits")(build_digits)
register_dataset("digits16")(lambda root, cutout: build_digits(root, cutout, image_size=16))
