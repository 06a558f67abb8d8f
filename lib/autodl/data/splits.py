"""Fixed index splits: the CIFAR-10 25k/25k train/valid split, the CIFAR-100 and ImageNet16-120 test halves,
and a class-balanced split generator.

The CIFAR-10 split is regenerated from its seed (Python ``random.seed(1021)``, shuffle ``range(50000)``,
sorted halves; identical to the original ``cifar-split.txt``) and also shipped in
``resources/cifar10-split.json``.  The test halves cannot be regenerated: they are shipped as
``resources/cifar100-test-split.json`` and ``resources/imagenet16-120-test-split.json``, copied from
the original repository's ``configs/nas-benchmark/*-test-split.txt``.
"""
from __future__ import annotations

import json
import os
import random
from functools import lru_cache
from importlib import resources
from typing import Mapping, NamedTuple, Sequence

import numpy as np

from ..config import read_json, read_legacy_config
from ..errors import DataError

CIFAR10_SPLIT_SEED = 1021
SPLIT_RESOURCES = {
    "cifar10": "cifar10-split.json",
    "cifar100": "cifar100-test-split.json",
    "ImageNet16-120": "imagenet16-120-test-split.json",
}
"""Shipped split files by dataset: CIFAR-10 has train/valid, the others xvalid/xtest halves of the test set."""


class TrainValidSplit(NamedTuple):
    """Two disjoint, sorted index lists into one training set."""

    train: list[int]
    valid: list[int]


class TestSplit(NamedTuple):
    """The two halves of a test set: ``xvalid`` (used for search/validation) and ``xtest``."""

    xvalid: list[int]
    xtest: list[int]


def generate_cifar10_split(size: int = 50000, seed: int = CIFAR10_SPLIT_SEED) -> TrainValidSplit:
    """Shuffle ``range(size)`` with Python's ``random.seed(seed)``; first half = train, second = valid, each sorted."""
    indices = list(range(size))
    random.Random(seed).shuffle(indices)
    half = size // 2
    return TrainValidSplit(sorted(indices[:half]), sorted(indices[half:]))


def _read_split_file(path: str | os.PathLike) -> dict[str, list[int]]:
    """Read a split file: our JSON (``{"train": [...], ...}``) or the original typed format (``{"train": ["int", [...]]}``)."""
    raw = read_json(path)
    if isinstance(raw, dict) and raw and all(isinstance(v, list) and len(v) == 2 and v[0] == "int" for v in raw.values()):
        raw = read_legacy_config(path)
    if not isinstance(raw, dict):
        raise DataError(f"{path} is not a split file; expected a JSON object mapping split names to index lists")
    return {key: [int(i) for i in value] for key, value in raw.items() if isinstance(value, list)}


def _check_halves(source: str, split: Mapping[str, list[int]], keys: Sequence[str], size: int | None) -> None:
    missing = [key for key in keys if key not in split]
    if missing:
        raise DataError(f"{source} lacks the split(s) {', '.join(missing)}; expected the keys {', '.join(keys)}")
    first, second = (set(split[key]) for key in keys)
    if first & second:
        raise DataError(f"{source}: the splits {keys[0]} and {keys[1]} overlap; they must be disjoint index lists")
    if size is not None and any(i < 0 or i >= size for i in first | second):
        raise DataError(f"{source} holds indices outside 0..{size - 1}; it does not belong to a set of {size} images")


@lru_cache(maxsize=None)
def _shipped(name: str) -> dict[str, list[int]]:
    with resources.files(__package__).joinpath("resources", SPLIT_RESOURCES[name]).open("r") as handle:
        raw = json.load(handle)
    return {key: value for key, value in raw.items() if isinstance(value, list)}


def cifar10_split(path: str | os.PathLike | None = None) -> TrainValidSplit:
    """The CIFAR-10 train/valid split (25,000 each): the shipped file, or a split file at ``path``."""
    split = _shipped("cifar10") if path is None else _read_split_file(path)
    _check_halves(str(path or SPLIT_RESOURCES["cifar10"]), split, ("train", "valid"), 50000)
    return TrainValidSplit(list(split["train"]), list(split["valid"]))


def load_test_halves(dataset: str, path: str | os.PathLike | None = None) -> TestSplit:
    """The x-valid/x-test halves of ``dataset``'s test set ('cifar100' or 'ImageNet16-120'), shipped or read from ``path``."""
    if path is None:
        if dataset not in SPLIT_RESOURCES or dataset == "cifar10":
            raise DataError(f"no test split is shipped for {dataset!r}; expected 'cifar100' or 'ImageNet16-120', "
                            "or pass the path of a split file with xvalid/xtest lists")
        split = _shipped(dataset)
    else:
        split = _read_split_file(path)
    _check_halves(str(path or SPLIT_RESOURCES[dataset]), split, ("xvalid", "xtest"), None)
    return TestSplit(list(split["xvalid"]), list(split["xtest"]))


def read_train_valid_split(path: str | os.PathLike, size: int | None = None) -> TrainValidSplit:
    """A ``{"train": [...], "valid": [...]}`` split file (e.g. written by ``exps/prepare.py``) of a set of ``size`` images."""
    split = _read_split_file(path)
    _check_halves(str(path), split, ("train", "valid"), size)
    return TrainValidSplit(list(split["train"]), list(split["valid"]))


def dataset_labels(data) -> np.ndarray:
    """The class labels of a dataset (its ``targets`` or ``labels``), read without decoding images."""
    labels = getattr(data, "targets", None)
    if labels is None:
        labels = getattr(data, "labels", None)
    if labels is None:
        raise DataError(f"the dataset {type(data).__name__} exposes no labels or targets; it cannot be split by class")
    return np.asarray(labels)


def require_indices_below(indices: Sequence[int], size: int, what: str) -> None:
    """Raise a DataError unless every index in ``indices`` addresses one of ``size`` images of ``what``."""
    largest = max(indices, default=-1)
    if largest >= size:
        raise DataError(f"the split of {what} indexes image {largest} but the set has only {size} images; "
                        "the dataset files are incomplete or the split belongs to another dataset")


def class_balanced_split(labels: Sequence[int] | np.ndarray, ratio: float, seed: int = 111) -> dict:
    """Split indices class by class: a ``ratio`` share of each class (rounded down) goes to ``train``, the rest to ``valid``.

    Each class's indices are shuffled with ``random.Random(seed)`` (one generator, classes in
    ascending order).  Returns ``{train, valid, class2numTrain, class2numValid}`` with sorted lists
    and per-class counts keyed by class id.
    """
    if not 0 < ratio < 1:
        raise DataError(f"the split ratio must lie strictly between 0 and 1, got {ratio}; use e.g. 0.5 for a 50/50 split")
    labels = np.asarray(labels, dtype=np.int64)
    rng = random.Random(seed)
    train: list[int] = []
    valid: list[int] = []
    class2num_train: dict[int, int] = {}
    class2num_valid: dict[int, int] = {}
    for label in sorted(set(labels.tolist())):
        members = np.flatnonzero(labels == label).tolist()
        rng.shuffle(members)
        cut = int(len(members) * ratio)
        train.extend(members[:cut])
        valid.extend(members[cut:])
        class2num_train[label], class2num_valid[label] = cut, len(members) - cut
    return {"train": sorted(train), "valid": sorted(valid),
            "class2numTrain": class2num_train, "class2numValid": class2num_valid}
