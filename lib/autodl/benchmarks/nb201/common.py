"""Names, defaults and argument checks shared by the NAS-Bench-201 readers, store and APIs."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ...errors import AutoDLError
from ...utils import torch_home

OFFICIAL_FILES: tuple[str, ...] = ("NAS-Bench-201-v1_0-e61699.pth", "NAS-Bench-201-v1_1-096897.pth")
"""The released single-file benchmarks; the last one is the default."""
OFFICIAL_ARCHIVE_DIR = "NAS-Bench-201-v1_1-archive"
"""Default folder of the per-architecture ``<index:06d>-FULL.pth`` files (under ``$TORCH_HOME``)."""
STORE_SUFFIX = ".store"
"""Our converted store of ``X.pth`` is the folder ``X.store`` next to it (by default under ``$TORCH_HOME``)."""
DOWNLOAD_HINT = (
    "download NAS-Bench-201-v1_1-096897.pth from the NAS-Bench-201 page "
    "(https://github.com/D-X-Y/NAS-Bench-201) and convert it with "
    "`python exps/NAS-Bench-201/convert.py IN OUT`"
)

DATASETS: tuple[str, ...] = ("cifar10-valid", "cifar10", "cifar100", "ImageNet16-120")
"""The four training settings recorded by the benchmark (spec 4.2)."""
SIMULATE_DATASETS: tuple[str, ...] = ("cifar10", "cifar100", "ImageNet16-120")
HP_ALIASES = {"less": "12", "full": "200"}
"""How the official ``.pth`` files name the two training recipes."""


class BenchmarkError(AutoDLError):
    """A benchmark file, store or query is invalid (unknown architecture, dataset, split, hp or seed)."""


def default_store_path(source: str | os.PathLike) -> Path:
    """The store folder that ``convert`` writes for ``source`` when no output is named."""
    source = Path(source)
    return source.with_name(source.name.split(".")[0] + STORE_SUFFIX)


def default_benchmark_path() -> Path:
    """Our store of the v1_1 file under ``$TORCH_HOME`` if it exists, else the official file; raise if neither does."""
    official = torch_home() / OFFICIAL_FILES[-1]
    store = default_store_path(official)
    if store.is_dir():
        return store
    if official.is_file():
        return official
    raise BenchmarkError(
        f"no NAS-Bench-201 benchmark found: looked for the store {store} and the file {official}; "
        f"{DOWNLOAD_HINT}, or pass the path explicitly"
    )


def remap_dataset_set_names(dataset: str, metric_on_set: str) -> tuple[str, str]:
    """Map the generic set names ``train``/``valid``/``test`` to the recorded (dataset, set) pair (API v2 rule)."""
    if dataset == "cifar10" and metric_on_set == "valid":
        return "cifar10-valid", "x-valid"
    if dataset == "cifar10" and metric_on_set in ("test", "train"):
        return "cifar10", "ori-test" if metric_on_set == "test" else "train"
    if dataset in ("cifar100", "ImageNet16-120") and metric_on_set in ("valid", "test"):
        return dataset, "x-valid" if metric_on_set == "valid" else "x-test"
    return dataset, metric_on_set


def resolve_hp(hp: Any, use_12epochs_result: bool | None, default: str) -> str:
    """The hp string from the v2 ``hp`` argument or the v1 ``use_12epochs_result`` flag (not both)."""
    if use_12epochs_result is not None:
        legacy = "12" if use_12epochs_result else "200"
        if hp is not None and str(hp) != legacy:
            raise BenchmarkError(
                f"hp={hp!r} contradicts use_12epochs_result={use_12epochs_result}; pass only one of them"
            )
        return legacy
    return default if hp is None else str(hp)


def check_choice(kind: str, value: Any, choices: Any) -> None:
    """Raise a one-sentence :class:`BenchmarkError` when ``value`` is not one of ``choices``."""
    choices = list(choices)
    if value not in choices:
        raise BenchmarkError(f"unknown {kind} {value!r}; expected one of {', '.join(map(repr, choices))}")


def arch_to_string(arch: Any) -> str | None:
    """The architecture string of ``arch`` (a string, an object with ``tostr()`` or with its own ``__str__``)."""
    if isinstance(arch, str):
        return arch
    if hasattr(arch, "tostr"):
        return str(arch.tostr())
    if type(arch).__str__ is not object.__str__:
        return str(arch)
    return None
