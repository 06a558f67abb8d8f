"""Datasets by name (:func:`get_datasets`), transforms, splits, benchmark settings and search loaders."""
from .registry import DATASETS, Datasets, default_data_root, get_datasets, register_dataset
from . import digits  # noqa: F401  (registers the built-in datasets)
from . import cifar, imagenet16, imagenet_folder  # noqa: F401  (register cifar10/100, ImageNet16-N, imagenet-1k)
from .digits import digits_split
from .image_arrays import ImageArrayDataset, with_transform
from .splits import (class_balanced_split, cifar10_split, dataset_labels, generate_cifar10_split, load_test_halves,
                     read_train_valid_split)
from .benchmark_sets import BENCHMARK_SETTINGS, BenchmarkData, get_benchmark_data
from .search import SearchDataset, SearchLoaders, get_search_loaders

__all__ = [
    "DATASETS", "Datasets", "default_data_root", "get_datasets", "register_dataset", "digits_split",
    "ImageArrayDataset", "with_transform", "class_balanced_split", "cifar10_split", "dataset_labels",
    "generate_cifar10_split", "read_train_valid_split",
    "load_test_halves", "BENCHMARK_SETTINGS", "BenchmarkData", "get_benchmark_data", "SearchDataset",
    "SearchLoaders", "get_search_loaders",
]
