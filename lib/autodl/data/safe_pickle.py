"""A restricted unpickler for data files from outside (CIFAR batches, down-sampled ImageNet, benchmark pickles).

``pickle.load`` can run arbitrary code named by the file.  :func:`safe_load` only resolves the
globals listed in ``allowed`` (by default: the few that rebuild NumPy arrays), so a file that
names anything else is refused with a :class:`UnsafePickleError` instead of being executed.
"""
from __future__ import annotations

import codecs
import pickle
from typing import IO, Any, Mapping

import numpy as np

from ..errors import DataError


class UnsafePickleError(DataError):
    """A pickle file asked for a global that the reader does not allow."""


def _numpy_array_globals() -> dict[tuple[str, str], Any]:
    reconstruct = np.ndarray.__reduce__(np.zeros(1))[0]  # numpy's own array rebuild function
    scalar = np.float64(0).__reduce__()[0]
    frombuffer = np.zeros(1).__reduce_ex__(5)[0]
    table: dict[tuple[str, str], Any] = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype}
    # Files written by NumPy 1.x (and Python 2) name ``numpy.core``; NumPy 2 writes ``numpy._core``.
    for package in ("numpy.core", "numpy._core"):
        table[(f"{package}.multiarray", "_reconstruct")] = reconstruct
        table[(f"{package}.multiarray", "scalar")] = scalar
        table[(f"{package}.numeric", "_frombuffer")] = frombuffer
    table[("_codecs", "encode")] = codecs.encode  # how Python 3 protocol-2 pickles spell bytes
    return table


NUMPY_ARRAY_GLOBALS: Mapping[tuple[str, str], Any] = _numpy_array_globals()
"""The globals needed to rebuild NumPy arrays, dtypes and scalars: the default of :func:`safe_load`."""


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler whose ``find_class`` resolves only the ``(module, name)`` pairs of ``allowed``."""

    def __init__(
        self, file: IO[bytes], allowed: Mapping[tuple[str, str], Any], encoding: str = "latin1", source: str = "the pickle"
    ) -> None:
        super().__init__(file, encoding=encoding)
        self.allowed, self.source = allowed, source

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self.allowed[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"{self.source} refers to {module}.{name}, which a data file must not contain; "
                "only plain containers, numbers, strings and NumPy arrays are read, so re-create the file "
                "from its official source"
            ) from None


def safe_load(file_obj: IO[bytes], allowed: Mapping[tuple[str, str], Any] | None = None, encoding: str = "latin1",
              advice: str = "re-create it from its official source") -> Any:
    """Unpickle ``file_obj`` resolving only the globals in ``allowed`` (default :data:`NUMPY_ARRAY_GLOBALS`).

    ``encoding="latin1"`` reads Python 2 pickles (the official CIFAR and ImageNet16 files) with
    ``str`` keys and intact array bytes.  A truncated or malformed file raises :class:`DataError` ending
    in ``advice`` (what to fetch again: the file's archive, from where).
    """
    name = str(getattr(file_obj, "name", "the pickle"))
    unpickler = RestrictedUnpickler(file_obj, NUMPY_ARRAY_GLOBALS if allowed is None else allowed, encoding, name)
    try:
        return unpickler.load()
    except UnsafePickleError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError) as error:
        raise DataError(
            f"{name} is not a readable pickle ({type(error).__name__}: {error}); "
            f"the file is truncated or corrupt; {advice}"
        ) from error
