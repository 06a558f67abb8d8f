"""Datasets by name (:func:`get_datasets`), transforms and splits."""
from .registry import DATASETS, Datasets, default_data_root, get_datasets, register_dataset
from . import digits  # noqa: F401  (registers the built-in datasets)
from .digits import digits_split

__all__ = ["DATASETS", "Datasets", "default_data_root", "get_datasets", "register_dataset", "digits_split"]
