"""The NAS-Bench-201 dataset settings by name (spec 4.2): a training set and named evaluation sets."""
from __future__ import annotations

import os
from typing import NamedTuple

from torch.utils.data import Dataset, Subset

from ..errors import DataError
from .digits import digits_split
from .image_arrays import with_transform
from .registry import get_datasets
from .splits import cifar10_split, load_test_halves, require_indices_below


class BenchmarkData(NamedTuple):
    """``train``: what a setting trains on; ``evaluations``: its evaluation sets by name (test transform)."""

    train: Dataset
    evaluations: dict[str, Dataset]
    input_shape: tuple[int, int, int, int]
    num_classes: int


BENCHMARK_SETTINGS = {
    "cifar10-valid": "cifar10",
    "cifar10": "cifar10",
    "cifar100": "cifar100",
    "ImageNet16-120": "ImageNet16-120",
    "digits-valid": "digits",
    "digits": "digits",
    "digits-halves": "digits",
}
"""Setting name -> dataset.  The digits settings are small offline stand-ins: ``digits-valid`` for
``cifar10-valid``, ``digits`` for ``cifar10`` and ``digits-halves`` (the test set's even/odd images as
``x-valid``/``x-test``) for ``cifar100`` and ``ImageNet16-120``."""


def get_benchmark_data(setting: str, root: str | os.PathLike | None = None, cutout: int = 0, **dataset_options) -> BenchmarkData:
    """Open ``setting``: cifar10-valid trains on the 25k train half and evaluates on ``x-valid`` (other half)
    and ``ori-test``; cifar10 trains on 50k, ``ori-test``; cifar100 / ImageNet16-120 train on the full
    set and evaluate on ``ori-test`` and its halves ``x-valid`` / ``x-test``."""
    if setting not in BENCHMARK_SETTINGS:
        raise DataError(f"unknown benchmark setting {setting!r}; expected one of {', '.join(BENCHMARK_SETTINGS)}")
    dataset = BENCHMARK_SETTINGS[setting]
    train, test, input_shape, num_classes = get_datasets(dataset, root, cutout, **dataset_options)
    evaluations: dict[str, Dataset] = {}
    if setting.endswith("-valid"):
        split = cifar10_split() if dataset == "cifar10" else digits_split()
        require_indices_below(split[0] + split[1], len(train), f"the {dataset} training set")
        evaluations["x-valid"] = Subset(with_transform(train, test.transform), split[1])
        train = Subset(train, split[0])
    elif dataset in ("cifar100", "ImageNet16-120"):
        halves = load_test_halves(dataset)
        require_indices_below(halves.xvalid + halves.xtest, len(test), f"the {dataset} test set")
        evaluations["x-valid"] = Subset(test, halves.xvalid)
        evaluations["x-test"] = Subset(test, halves.xtest)
    elif setting == "digits-halves":
        evaluations["x-valid"] = Subset(test, range(0, len(test), 2))
        evaluations["x-test"] = Subset(test, range(1, len(test), 2))
    evaluations["ori-test"] = test
    return BenchmarkData(train, evaluations, input_shape, num_classes)
