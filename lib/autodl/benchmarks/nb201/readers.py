"""Safe readers for the official NAS-Bench-201 and NATS-Bench (topology) files.

Nothing read here can run code: ``.pth`` files of plain data (the released benchmark files) and the
NATS ``.pickle.pbz2`` files go through a restricted unpickler that admits only plain containers,
numbers, strings and NumPy scalars; ``.pth`` files with tensors (the per-architecture archives with
weights) go through ``torch.load(weights_only=True)``.  Every reader returns the official record layout (spec 4.5)
with the two training recipes keyed ``'12'`` and ``'200'``.
"""
from __future__ import annotations

import bz2
import copy
import io
import os
import pickle
import re
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import IO, Any, Iterator, Mapping

import numpy as np

from ...errors import DataError
from .common import DOWNLOAD_HINT, HP_ALIASES, OFFICIAL_ARCHIVE_DIR, OFFICIAL_FILES, BenchmarkError

NATS_META = "meta.pickle.pbz2"
NATS_SUFFIX = ".pickle.pbz2"
_REQUIRED_KEYS = ("meta_archs", "arch2infos", "evaluated_indexes")

TORCH_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
"""First object of a torch file written in the pre-1.6 (non-zip) format."""


def _plain_globals() -> dict[tuple[str, str], Any]:
    """The globals a plain-data benchmark pickle may name: containers and NumPy scalars, nothing callable beyond them."""
    from ...data.safe_pickle import NUMPY_ARRAY_GLOBALS  # imported here: the store path must not import torch

    table = dict(NUMPY_ARRAY_GLOBALS)
    table[("collections", "OrderedDict")] = OrderedDict
    for module in ("builtins", "__builtin__"):
        table[(module, "set")], table[(module, "frozenset")] = set, frozenset
    return table


class _NotPlainData(Exception):
    """The file holds more than plain data (tensors, other globals); torch's own safe loader must decide."""


def _plain_unpickle(handle: IO[bytes]) -> Any:
    """Unpickle with the shared restricted unpickler, admitting only :func:`_plain_globals` and no tensor storages."""
    from ...data.safe_pickle import RestrictedUnpickler, UnsafePickleError

    class PlainUnpickler(RestrictedUnpickler):
        def persistent_load(self, pid: Any) -> Any:
            raise _NotPlainData("tensor storage")

    try:
        return PlainUnpickler(handle, _plain_globals(), encoding="ASCII").load()
    except (UnsafePickleError, pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError,
            KeyError) as error:
        raise _NotPlainData(str(error)) from None


def _load_plain_torch_file(path: Path) -> Any:
    """Read a torch file that holds only plain data (the released benchmark files) at C-unpickler speed."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = [name for name in archive.namelist() if name.endswith("/data.pkl") or name == "data.pkl"]
            if len(names) != 1:
                raise _NotPlainData("no data.pkl")
            with io.BufferedReader(archive.open(names[0]), buffer_size=1 << 22) as handle:
                return _plain_unpickle(handle)
    with open(path, "rb") as handle:
        if _plain_unpickle(handle) != TORCH_LEGACY_MAGIC:
            raise _NotPlainData("not a torch file")
        _plain_unpickle(handle)  # protocol version
        _plain_unpickle(handle)  # system information
        data = _plain_unpickle(handle)
        if _plain_unpickle(handle):  # the keys of tensor storages: none in plain data
            raise _NotPlainData("tensor storage")
        return data


def _torch_safe_globals() -> list[Any]:
    """NumPy scalars and dtypes (plain numbers) that official files may hold, for torch's weights-only loader."""
    scalar = np.float64(0).__reduce__()[0]
    dtype_classes = [type(np.dtype(name)) for name in ("float64", "float32", "int64", "int32", "bool")]
    names = [(scalar, f"{package}.multiarray.scalar") for package in ("numpy.core", "numpy._core")]
    return [*names, np.dtype, *dtype_classes]


def load_torch_file(path: str | os.PathLike) -> Any:
    """Load a ``.pth`` file safely: plain data with a restricted C unpickler, tensors with ``weights_only=True``.

    Anything that could execute code is refused.  Both the zip format and the pre-1.6 format are read.
    """
    path = Path(path)
    if not path.is_file():
        raise BenchmarkError(f"benchmark file {path} does not exist; check the path, or {DOWNLOAD_HINT}")
    try:
        return _load_plain_torch_file(path)
    except _NotPlainData:
        pass  # tensors or other objects: torch's weights-only loader decides what is safe
    import torch

    try:
        with torch.serialization.safe_globals(_torch_safe_globals()):
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        named = [line.strip() for line in str(error).splitlines() if "GLOBAL" in line]
        if named:
            raise BenchmarkError(
                f"{path} names code ({named[0][:160]}); it was refused because loading it could run code, "
                "so use an official NAS-Bench-201 file"
            ) from None
        raise BenchmarkError(
            f"{path} is not a readable torch file of plain data; it is truncated or corrupt, {fetch_again(path)}"
        ) from None
    except (RuntimeError, EOFError, OSError) as error:
        raise BenchmarkError(
            f"{path} is not a readable torch file ({type(error).__name__}); it is truncated or corrupt, {fetch_again(path)}"
        ) from None


ARCHIVE_MEMBER = re.compile(r"\d{6}-FULL\.pth")


def fetch_again(path: Path) -> str:
    """What to fetch again for a corrupt benchmark file: the official file from its page, the archive an
    archive member (``000003-FULL.pth``) or a NATS-Bench pickle comes from, else how to get an official file."""
    if path.name in OFFICIAL_FILES:
        return f"download {path.name} again from the NAS-Bench-201 page (https://github.com/D-X-Y/NAS-Bench-201)"
    if ARCHIVE_MEMBER.fullmatch(path.name):
        return f"extract it again from the NAS-Bench-201 archive ({OFFICIAL_ARCHIVE_DIR}.tar from the NAS-Bench-201 page)"
    if path.name.endswith(NATS_SUFFIX):
        return "extract it again from its NATS-Bench archive (e.g. NATS-tss-v1_0-3ffb9-simple.tar)"
    return f"re-create it, or {DOWNLOAD_HINT}"


def load_bz2_pickle(path: str | os.PathLike) -> Any:
    """Load a bz2-compressed pickle (NATS-Bench ``.pickle.pbz2``) admitting only plain data."""
    path = Path(path)
    if not path.is_file():
        raise BenchmarkError(f"benchmark file {path} does not exist; check the path or extract the archive again")
    from ...data.safe_pickle import safe_load

    try:
        with bz2.open(path, "rb") as handle:
            return safe_load(handle, allowed=_plain_globals(), encoding="latin1", advice=fetch_again(path))
    except DataError as error:
        message = str(error)
        raise BenchmarkError(str(path) + message[len("the pickle"):] if message.startswith("the pickle") else message) from None
    except (OSError, EOFError) as error:
        raise BenchmarkError(
            f"{path} is not a readable bz2 pickle ({error}); it is truncated or corrupt, {fetch_again(path)}"
        ) from None


def load_file(path: str | os.PathLike) -> Any:
    """Load a ``.pth`` or ``.pbz2`` file by its extension."""
    return load_bz2_pickle(path) if str(path).endswith((".pbz2", ".bz2")) else load_torch_file(path)


def normalize_record(record: Any, where: str) -> dict[str, dict]:
    """``{'less': state, 'full': state}`` or ``{'12': state, '200': state}`` -> ``{'12': state, '200': state}``."""
    if not isinstance(record, Mapping) or not record:
        raise BenchmarkError(f"{where} is not a per-architecture record; expected a dict of ArchResults states keyed by hp")
    result = {}
    for key, state in record.items():
        hp = HP_ALIASES.get(str(key), str(key))
        if not isinstance(state, Mapping) or "all_results" not in state or "dataset_seed" not in state:
            raise BenchmarkError(
                f"{where} entry {key!r} is not an ArchResults state; expected keys all_results and dataset_seed"
            )
        result[hp] = state
    return dict(sorted(result.items(), key=lambda item: int(item[0]) if item[0].isdigit() else 0))


def _check_benchmark_dict(data: Any, where: str) -> None:
    if not isinstance(data, Mapping):
        raise BenchmarkError(f"{where} is not a NAS-Bench-201 benchmark; expected a dict with keys {', '.join(_REQUIRED_KEYS)}")
    missing = [key for key in _REQUIRED_KEYS if key not in data]
    if missing:
        raise BenchmarkError(
            f"{where} is not a NAS-Bench-201 benchmark: it lacks {', '.join(missing)}; "
            f"expected a dict with keys {', '.join(_REQUIRED_KEYS)}"
        )


class BenchmarkSource:
    """The content of an official benchmark (file, dict or NATS archive folder), record by record.

    ``records()`` yields ``(index, {'12': ArchResults-state, '200': ...})`` in index order; with
    ``consume=True`` each record is dropped from memory once yielded, which lets the converter stream.
    """

    def __init__(self, meta_archs: list[str], evaluated: list[int], filename: str,
                 arch2infos: dict | None = None, archive_dir: Path | None = None) -> None:
        self.meta_archs, self.evaluated, self.filename = meta_archs, evaluated, filename
        self._arch2infos, self._archive_dir = arch2infos, archive_dir

    @classmethod
    def from_dict(cls, data: Mapping, filename: str = "dict", copy_data: bool = True) -> "BenchmarkSource":
        """Wrap an already-loaded official dict (copied unless ``copy_data`` is False)."""
        _check_benchmark_dict(data, filename)
        arch2infos = copy.deepcopy(dict(data["arch2infos"])) if copy_data else dict(data["arch2infos"])
        evaluated = sorted(int(index) for index in data["evaluated_indexes"])
        return cls(list(data["meta_archs"]), evaluated, filename, arch2infos=arch2infos)

    @classmethod
    def open(cls, path: str | os.PathLike) -> "BenchmarkSource":
        """Open an official ``.pth``, a NATS single-file ``.pickle.pbz2`` or a NATS ``-simple`` folder."""
        path = Path(path)
        if path.is_dir():
            meta_path = path / NATS_META
            if not meta_path.is_file():
                raise BenchmarkError(
                    f"folder {path} has no {NATS_META}; expected a NATS-Bench archive folder such as "
                    "NATS-tss-v1_0-3ffb9-simple (extract the .tar again) or an official .pth file"
                )
            meta = load_bz2_pickle(meta_path)
            if not isinstance(meta, Mapping) or "meta_archs" not in meta:
                raise BenchmarkError(f"{meta_path} lacks meta_archs; expected the meta file of a NATS-Bench archive")
            indexes = sorted(int(name.name.split(".")[0]) for name in path.glob("*" + NATS_SUFFIX)
                             if name.name.split(".")[0].isdigit())
            return cls(list(meta["meta_archs"]), indexes, path.name, archive_dir=path)
        data = load_file(path)
        _check_benchmark_dict(data, str(path))
        return cls.from_dict(data, path.name, copy_data=False)

    def records(self, consume: bool = False) -> Iterator[tuple[int, dict[str, dict]]]:
        """Yield ``(index, {hp: state})`` for every architecture that has a record, in index order."""
        if self._archive_dir is not None:
            for index in self.evaluated:
                record = load_bz2_pickle(self._archive_dir / f"{index:06d}{NATS_SUFFIX}")
                yield index, normalize_record(record, f"record {index} of {self.filename}")
            return
        for key in sorted(self._arch2infos, key=int):
            record = self._arch2infos.pop(key) if consume else self._arch2infos[key]
            yield int(key), normalize_record(record, f"record {key} of {self.filename}")


def load_archive_record(path: str | os.PathLike) -> dict[str, dict]:
    """Read one per-architecture file: ``<index:06d>-FULL.pth`` (official) or ``<index:06d>.pickle.pbz2`` (NATS)."""
    return normalize_record(load_file(path), str(path))
