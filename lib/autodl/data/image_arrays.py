"""In-memory image datasets: all images in one uint8 tensor, augmented per item on the uint8 data."""
from __future__ import annotations

import copy
from typing import Callable

import numpy as np
import torch
from torch.utils.data import Dataset

from ..errors import DataError
from .transforms import ImagePipeline


class ImageArrayDataset(Dataset):
    """Images as one uint8 tensor (N, C, H, W) and int64 labels; an item is ``(transform(image), label)``.

    Keeping the raw uint8 array (3 KB a CIFAR image) and augmenting before the float conversion is
    what makes the CIFAR pipeline fast; ``with_transform`` gives a second view of the same arrays.
    """

    def __init__(self, images: np.ndarray | torch.Tensor, labels, transform: Callable | None = None) -> None:
        self.images = torch.as_tensor(images)
        self.labels = torch.as_tensor(np.asarray(labels), dtype=torch.int64)
        if self.images.dtype != torch.uint8 or self.images.dim() != 4 or len(self.images) != len(self.labels):
            raise DataError(f"expected uint8 images (N, C, H, W) and N labels, got {tuple(self.images.shape)} "
                            f"{self.images.dtype} and {len(self.labels)} labels; pass the arrays in that layout")
        self.transform = transform
        self._arrays = self.images.numpy(), self.labels.tolist()  # NumPy/list indexing is cheaper per item

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        images, labels = self._arrays
        image = torch.from_numpy(images[index])
        if self.transform is not None:
            image = self.transform(image)
        return image, labels[index]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)} images of {tuple(self.images.shape[1:])})"


def with_transform(dataset: Dataset, transform: Callable | None) -> Dataset:
    """A shallow copy of ``dataset`` (sharing its images) whose ``transform`` is replaced."""
    if not hasattr(dataset, "transform"):
        raise DataError(f"{type(dataset).__name__} has no 'transform' attribute to replace; "
                        "pass a dataset built by autodl.data.get_datasets")
    clone = copy.copy(dataset)
    clone.transform = transform
    return clone


def standard_transforms(size: int, padding: int, mean, std, cutout: int) -> tuple[ImagePipeline, ImagePipeline]:
    """(train, test) pipelines of spec 5.1 for uint8 CHW images: flip, crop with zero padding, to float,
    normalise, then cutout if ``cutout`` > 0; the test pipeline only converts and normalises."""
    train = ImagePipeline(mean, std, crop_size=size, padding=padding, flip=True, cutout=cutout)
    return train, ImagePipeline(mean, std)
