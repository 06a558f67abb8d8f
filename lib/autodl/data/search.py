"""The paired search dataset and the loaders of the weight-sharing searches (spec 2.0)."""
from __future__ import annotations

import os
from typing import Callable, NamedTuple, Sequence, Union

import torch
from torch.utils.data import DataLoader, Dataset, Subset

from ..errors import DataError
from .digits import digits_split
from .image_arrays import with_transform
from .loader import make_loader
from .registry import get_datasets
from .splits import cifar10_split, load_test_halves, require_indices_below


class SearchDataset(Dataset):
    """Item ``i`` is ``(train_image, train_label, valid_image, valid_label)``.

    The train half is ``train_split[i]``; the valid half is a uniformly random entry of
    ``valid_split``: a draw from torch's generator (so seeded workers reproduce it), offset by ``i``.
    Under DDP every process seeds the same generator state, so without the offset each would pair
    its shard with the very same valid items and averaging the architecture gradients would add
    nothing; with it, processes holding different train items draw different valid items.  ``data`` is
    one dataset (the two splits index it and must be disjoint) or a pair ``(train_data,
    valid_data)`` that the splits index respectively.  Both halves get the datasets' own
    transforms, which for the searches are the training augmentation.
    """

    def __init__(self, data: Dataset | Sequence[Dataset], train_split: Sequence[int], valid_split: Sequence[int]) -> None:
        if isinstance(data, (tuple, list)):
            if len(data) != 2:
                raise DataError(f"SearchDataset takes one dataset or a (train, valid) pair, got {len(data)} datasets")
            self.train_data, self.valid_data = data
        else:
            self.train_data = self.valid_data = data
            overlap = set(train_split) & set(valid_split)
            if overlap:
                raise DataError(f"the train and valid splits share {len(overlap)} indices (e.g. {min(overlap)}); "
                                "with one underlying dataset they must be disjoint")
        if len(train_split) == 0 or len(valid_split) == 0:
            raise DataError("SearchDataset needs non-empty train and valid splits; check the split files")
        self.train_split, self.valid_split = list(train_split), list(valid_split)

    def __len__(self) -> int:
        return len(self.train_split)

    def __getitem__(self, index: int):
        train_image, train_label = self.train_data[self.train_split[index]]
        draw = int(torch.randint(len(self.valid_split), ()))
        valid_index = self.valid_split[(draw + index) % len(self.valid_split)]
        valid_image, valid_label = self.valid_data[valid_index]
        return train_image, train_label, valid_image, valid_label


class SearchLoaders(NamedTuple):
    """``search``: paired batches for the bi-level step; ``train``: the weight half; ``valid``: the arch half, test transform."""

    search: DataLoader
    train: DataLoader
    valid: DataLoader
    num_classes: int = 10


SEARCH_DATASETS = ("cifar10", "cifar100", "ImageNet16-120", "digits", "digits16")
SplitSource = Union[Sequence[Sequence[int]], Callable[[Dataset], Sequence[Sequence[int]]]]


def get_search_loaders(dataset: str, root: str | os.PathLike | None = None, batch_size: int = 64,
                       test_batch_size: int | None = None, workers: int = 4, world_size: int = 1, rank: int = 0,
                       seed: int = 0, split: SplitSource | None = None, **dataset_options) -> SearchLoaders:
    """Loaders of spec 2.0 for ``dataset`` in :data:`SEARCH_DATASETS`.

    cifar10 / digits: the training set is split in two (25k/25k, or ``digits_split()``); search
    pairs a train-half item with a random valid-half item, both augmented.  cifar100 /
    ImageNet16-120: weights use the whole training set, the architecture half is the x-valid half
    of the test set with the training augmentation.  The valid loader is the architecture half with
    the test transform, batch ``test_batch_size`` (default ``batch_size``), in index order.
    Under DDP (``world_size`` > 1) the search and train loaders are sharded across the processes
    (sampler seeded with ``seed``); every process evaluates the whole valid loader.
    ``split`` (train, valid indices into the training set, or a function of the training set that
    returns them) replaces the dataset's own split, for any dataset: TAS searches on per-class halves.
    """
    if split is None and dataset not in SEARCH_DATASETS:
        raise DataError(f"no search split is defined for dataset {dataset!r}; expected one of {', '.join(SEARCH_DATASETS)}")
    train_data, test_data, _, num_classes = get_datasets(dataset, root, 0, **dataset_options)
    test_batch_size = test_batch_size or batch_size
    if split is not None or dataset in ("cifar10", "digits", "digits16"):
        if split is None:
            split = cifar10_split() if dataset == "cifar10" else digits_split()
        elif callable(split):
            split = split(train_data)
        require_indices_below(split[0] + split[1], len(train_data), f"the {dataset} training set")
        search_data = SearchDataset(train_data, split[0], split[1])
        weight_data = Subset(train_data, split[0])
        valid_data = Subset(with_transform(train_data, test_data.transform), split[1])
    else:
        halves = load_test_halves(dataset)
        require_indices_below(halves.xvalid + halves.xtest, len(test_data), f"the {dataset} test set")
        search_data = SearchDataset((train_data, with_transform(test_data, train_data.transform)),
                                    list(range(len(train_data))), halves.xvalid)
        weight_data = train_data
        valid_data = Subset(test_data, halves.xvalid)
    shard = dict(world_size=world_size, rank=rank, seed=seed)
    return SearchLoaders(make_loader(search_data, batch_size, True, workers, **shard),
                         make_loader(weight_data, batch_size, True, workers, **shard),
                         make_loader(valid_data, test_batch_size, False, workers), num_classes)
