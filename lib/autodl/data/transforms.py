"""Tensor image transforms: random crop with zero padding, horizontal flip, normalisation, cutout, PCA lighting.

Crop and flip work on uint8 or float CHW tensors, so the CIFAR/ImageNet16 pipelines augment the
raw uint8 image and convert to float once (:class:`ToFloat`).

They draw from torch's global generator, so seeding torch (and DataLoader workers, which torch
seeds from it) makes the augmentation reproducible and resumable.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F


class ToFloat:
    """uint8 CHW tensor (0-255) -> float32 CHW tensor in [0, 1], like torchvision's ``ToTensor``."""

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        return image.float().div_(255.0)


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
    """Mirror the image left-right with probability ``p``."""

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


class Lighting:
    """AlexNet-style PCA lighting noise on a float RGB tensor in [0, 1]: add ``eigvec @ (alpha * eigval)``.

    ``alpha`` ~ N(0, ``std``) per image; the default eigen-decomposition is that of ImageNet's RGB
    pixel covariance (values on the [0, 1] scale).
    """

    EIGVAL = (0.2175, 0.0188, 0.0045)
    EIGVEC = ((-0.5675, 0.7192, 0.4009), (-0.5808, -0.0045, -0.8140), (-0.5836, -0.6948, 0.4203))

    def __init__(self, std: float, eigval: Sequence[float] = EIGVAL, eigvec: Sequence[Sequence[float]] = EIGVEC) -> None:
        self.std = std
        self.eigval = torch.tensor(eigval, dtype=torch.float32)
        self.eigvec = torch.tensor(eigvec, dtype=torch.float32)

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        if self.std == 0:
            return image
        alpha = torch.randn(3) * self.std
        shift = self.eigvec @ (alpha * self.eigval)
        return image + shift.view(3, 1, 1)


class ImagePipeline:
    """Fused pipeline for square uint8 CHW images: [flip] -> [zero-pad + crop] -> to float, normalise -> [cutout].

    Same result as ``RandomHorizontalFlip, RandomCrop, ToFloat, Normalize, Cutout`` (spec 5.1
    order), computed in NumPy on the small uint8 image with one draw of five uniforms from torch's
    generator per image: several times faster than one torch call per step.  With no flip, crop
    or cutout it is the deterministic test transform.
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float], crop_size: int | None = None,
                 padding: int = 0, flip: bool = False, cutout: int = 0) -> None:
        std_array = np.asarray(std, dtype=np.float64).reshape(-1, 1, 1)
        self.scale = (1.0 / (255.0 * std_array)).astype(np.float32)
        self.bias = (-np.asarray(mean, dtype=np.float64).reshape(-1, 1, 1) / std_array).astype(np.float32)
        self.crop_size, self.padding, self.flip, self.cutout = crop_size, padding, flip, cutout

    @property
    def is_random(self) -> bool:
        """Whether any step draws random numbers (False for the test transform)."""
        return self.flip or self.crop_size is not None or self.cutout > 0

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        if not self.is_random:
            return self.apply(image)
        flip_draw, left_draw, top_draw, y_draw, x_draw = torch.rand(5, dtype=torch.float64).tolist()
        offset = centre = None
        if self.crop_size is not None:
            positions = 2 * self.padding + image.shape[-1] - self.crop_size + 1
            offset = int(top_draw * positions), int(left_draw * positions)
        if self.cutout > 0:
            size = self.crop_size or image.shape[-1]
            centre = int(y_draw * size), int(x_draw * size)
        return self.apply(image, self.flip and flip_draw < 0.5, offset, centre)

    def apply(self, image: torch.Tensor, flip: bool = False, offset: tuple[int, int] | None = None,
              centre: tuple[int, int] | None = None) -> torch.Tensor:
        """The pipeline with its random choices given: mirror, crop ``(top, left)`` in padded coordinates, cutout centre."""
        array = image.numpy()
        if flip:
            array = array[..., ::-1]
        if offset is not None:
            array = self._crop(array, *offset)
        out = array.astype(np.float32)
        out *= self.scale
        out += self.bias
        if centre is not None:
            half = self.cutout // 2
            y, x = centre
            out[..., max(0, y - half) : y + half, max(0, x - half) : x + half] = 0
        return torch.from_numpy(out)

    def _crop(self, array: np.ndarray, top: int, left: int) -> np.ndarray:
        size, height, width = self.crop_size, array.shape[-2], array.shape[-1]
        out = np.zeros(array.shape[:-2] + (size, size), dtype=array.dtype)
        y0, x0 = top - self.padding, left - self.padding  # crop origin in image coordinates
        src_y, src_x = max(0, y0), max(0, x0)
        end_y, end_x = min(height, y0 + size), min(width, x0 + size)
        if end_y > src_y and end_x > src_x:
            out[..., src_y - y0 : end_y - y0, src_x - x0 : end_x - x0] = array[..., src_y:end_y, src_x:end_x]
        return out


class Compose:
    """Apply ``transforms`` in order."""

    def __init__(self, transforms: Sequence) -> None:
        self.transforms = list(transforms)

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        for transform in self.transforms:
            image = transform(image)
        return image
