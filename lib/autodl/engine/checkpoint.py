"""Checkpoints written atomically and read without executing code."""
from __future__ import annotations

import os
import pickle
import re
from pathlib import Path
from typing import Any

import torch

from ..errors import CheckpointError
from ..utils import atomic_write


def save_checkpoint(state: dict[str, Any], path: str | os.PathLike) -> Path:
    """``torch.save`` to a temporary file in the same folder, then rename: a crash never leaves half a file."""
    path = Path(path)
    atomic_write(path, lambda tmp: torch.save(state, tmp))
    return path


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu", mmap: bool = False) -> dict[str, Any]:
    """Load a checkpoint with ``weights_only=True`` (tensors and plain containers only); ``mmap`` maps the
    tensors instead of reading them, which is cheap when only the plain data is needed."""
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"checkpoint {path} is a directory; pass a .pth file in it (a run's checkpoint/last.pth "
                              "or checkpoint/best.pth)")
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist; pass the path of a .pth file written by a run")
    try:
        return torch.load(path, map_location=map_location, weights_only=True, mmap=mmap)
    except Exception as error:  # torch's text advises weights_only=False, which would run the file's code: not ours
        raise CheckpointError(f"cannot load checkpoint {path}: {_load_failure(error)}; pass a checkpoint that a run "
                              "wrote (<run>/checkpoint/last.pth or best.pth)") from None


def _load_failure(error: Exception) -> str:
    """Why ``torch.load(weights_only=True)`` refused a file, in our words."""
    named = re.search(r"GLOBAL (\S+)", str(error))
    if isinstance(error, pickle.UnpicklingError) and named:
        return f"it holds a {named.group(1)} object, not only tensors and plain data, and loading that could run code"
    return f"it is truncated, corrupt or not a torch file ({type(error).__name__})"
