"""Names, defaults and argument checks shared by the NAS-Bench-201 readers, store and APIs."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable, NamedTuple

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


class SetLayout(NamedTuple):
    """How the generic set names of one training setting map to its recorded evaluation sets.

    ``sets``: ``(get_more_info key prefix, recorded set)`` in the official key order; the prefixes
    ``valid``/``test`` are also what the modern API accepts as ``split`` on the setting itself.
    ``summary``: ``(label, recorded set)`` shown by ``query_by_arch``/``show`` (labels padded as officially).
    ``required``: the prefix whose set every run of the setting must have (None: all optional).
    """

    sets: tuple[tuple[str, str], ...]
    summary: tuple[tuple[str, str], ...]
    required: str | None


HOLDOUT_LAYOUT = SetLayout((("valid", "x-valid"), ("test", "ori-test")), (("valid", "x-valid"),), "valid")
"""Trained on part of the training set, evaluated on the held-out part and the test set (cifar10-valid)."""
FULL_LAYOUT = SetLayout((("test", "ori-test"),), (("test ", "ori-test"),), None)
"""Trained on the whole training set, evaluated on the test set only (cifar10)."""
HALVES_LAYOUT = SetLayout((("valid", "x-valid"), ("test", "x-test"), ("valtest", "ori-test")),
                          (("valid", "x-valid"), ("test", "x-test")), None)
"""Trained on the whole training set, evaluated on the test set and its two halves (cifar100, ImageNet16-120)."""

SETTING_LAYOUTS: dict[str, SetLayout] = {
    "cifar10-valid": HOLDOUT_LAYOUT, "cifar10": FULL_LAYOUT,
    "cifar100": HALVES_LAYOUT, "ImageNet16-120": HALVES_LAYOUT,
    # the builder's offline stand-ins (autodl.data.BENCHMARK_SETTINGS) mirror the layouts of the real ones
    "digits-valid": HOLDOUT_LAYOUT, "digits": FULL_LAYOUT, "digits-halves": HALVES_LAYOUT,
}
"""Every training setting a benchmark can record (official and built) and its evaluation-set layout."""
SETTINGS: tuple[str, ...] = tuple(SETTING_LAYOUTS)


def set_layout(setting: str) -> SetLayout:
    """The layout of ``setting``; an unknown name is read like cifar100 (x-valid / x-test halves and ori-test)."""
    return SETTING_LAYOUTS.get(setting, HALVES_LAYOUT)


class ReportingSplits(NamedTuple):
    """Where a reporting dataset's generic splits are recorded: ``(setting, set)`` for each."""

    valid: tuple[str, str]
    """What searches score architectures on."""
    test: tuple[str, str]
    """The paper's test number (with hp 200 and the mean over seeds)."""


REPORTING: dict[str, ReportingSplits] = {
    "cifar10": ReportingSplits(("cifar10-valid", "x-valid"), ("cifar10", "ori-test")),
    "cifar100": ReportingSplits(("cifar100", "x-valid"), ("cifar100", "x-test")),
    "ImageNet16-120": ReportingSplits(("ImageNet16-120", "x-valid"), ("ImageNet16-120", "x-test")),
    # the digits demo's settings, with the protocol of the ones they mirror
    "digits": ReportingSplits(("digits-valid", "x-valid"), ("digits", "ori-test")),
    "digits-halves": ReportingSplits(("digits-halves", "x-valid"), ("digits-halves", "x-test")),
}
"""The reporting datasets (what users name to get the paper's protocol) and their valid/test records.

``train`` is the training set of the test setting.  ``cifar10`` follows the paper: searches score on
``cifar10-valid``/``x-valid`` (trained on half the training set) and the test number is
``cifar10``/``ori-test`` (trained on all of it); the others use the halves of their test set."""
SIMULATE_DATASETS: tuple[str, ...] = tuple(REPORTING)
"""The datasets ``simulate_train_eval`` and ``final_accuracy`` accept."""
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
    """Map the generic set names ``train``/``valid``/``test`` of a reporting dataset to the recorded (setting, set)
    pair (the API v2 rule, from :data:`REPORTING`); other names pass through unchanged."""
    splits = REPORTING.get(dataset)
    if splits is None:
        return dataset, metric_on_set
    if metric_on_set == "valid":
        return splits.valid
    if metric_on_set == "test":
        return splits.test
    if metric_on_set == "train":
        return splits.test[0], "train"
    return dataset, metric_on_set


def resolve_split(dataset: str, split: str) -> tuple[str, str]:
    """The recorded (setting, set) of a modern-API ``split``: the :data:`REPORTING` rule for reporting datasets,
    and on a setting itself ``valid``/``test`` as its layout names them (cifar10-valid: x-valid / ori-test)."""
    setting, setname = remap_dataset_set_names(dataset, split)
    if setname in ("valid", "test"):
        setname = dict(set_layout(setting).sets).get(setname, setname)
    return setting, setname


def split_choices(dataset: str, recorded_sets: Iterable[str]) -> str:
    """The split names ``resolve_split`` accepts for ``dataset`` (the recorded sets of the setting they reach)."""
    generic = ["train"]
    for split in ("valid", "test"):
        setting, setname = resolve_split(dataset, split)
        if setname != split:
            generic.append(f"{split} (= {setting} {setname})")
    names = generic + [name for name in recorded_sets if name not in generic]
    return ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else names[0]


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



def arch_to_string(arch: Any) -> str | None:
    """The architecture string of ``arch`` (a string, an object with ``tostr()`` or with its own ``__str__``)."""
    if isinstance(arch, str):
        return arch
    if hasattr(arch, "tostr"):
        return str(arch.tostr())
    if type(arch).__str__ is not object.__str__:
        return str(arch)
    return None
