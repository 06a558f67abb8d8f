"""Tensor image transforms: random crop with zero padding, horizontal flip, normalisation, cutout.

They draw from torch's global generator, so seeding torch (and DataLoader workers, which torch
seeds from it) makes the augmentation reproducible and resumable.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F


class Normalize:
    """``(x - mean) / std`` per channel for a float CHW tensor."""

    def __init__(self, mean: Sequence[float], std: Sequence[float]) -> None:
        self.mean = torch.tensor(mean, dtype=torch.float32).view(-1, 1, 1)
        self.std = torch.tensor(std, dtype=torch.float32).view(-1, 1, 1)

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        return (image - self.mean) / self.std


class RandomCrop:
    """Pad by ``padding`` zeros on every side, then crop ``size`` x ``size`` at a uniform offset."""

    def __init__(self, size: int, padding: int) -> None:
        self.size, self.padding = size, padding

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        padded = F.pad(image, [self.padding] * 4)
        limit = padded.shape[-1] - self.size + 1, padded.shape[-2] - self.size + 1
        left = int(torch.randint(limit[0], ()))
        top = int(torch.randint(limit[1], ()))
        return padded[..., top : top + self.size, left : left + self.size]


class RandomHorizontalFlip:
    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        return image.flip(-1) if float(torch.rand(())) < self.p else image


class Cutout:
    """Zero one ``length`` x ``length`` square centred at a uniform random pixel, clipped at the borders.

    Applied after normalisation, as in the original.
    """

    def __init__(self, length: int) -> None:
        self.length = length

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        height, width = image.shape[-2:]
        y = int(torch.randint(height, ()))
        x = int(torch.randint(width, ()))
        half = self.length // 2
        y0, y1 = max(0, y - half), min(height, y + half)
        x0, x1 = max(0, x - half), min(width, x + half)
        image = image.clone()
        image[..., y0:y1, x0:x1] = 0
        return image


class Compose:
    def __init__(self, transforms: Sequence) -> None:
        self.transforms = list(transforms)

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        for transform in self.transforms:
            image = transform(image)
        return image
