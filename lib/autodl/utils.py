"""Small helpers shared across the package: output paths checked before writing, atomic file writes, time
strings and the smoke-run steps cap."""
from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import Callable

from .errors import ConfigError, OutputPathError

MAX_STEPS_VARIABLE = "AUTODL_MAX_STEPS_PER_EPOCH"
"""Environment variable that caps every epoch of a run at that many training steps and every evaluation at that
many batches (smoke runs; the Trainer and the evaluation loaders read it); processes started by a run, and the
launchers' commands, inherit it.  ``--max-steps-per-epoch`` sets it."""


def max_steps_per_epoch() -> int | None:
    """The steps cap of ``$AUTODL_MAX_STEPS_PER_EPOCH`` (a positive integer), or None when it is not set."""
    text = os.environ.get(MAX_STEPS_VARIABLE, "")
    if not text:
        return None
    if not text.isdigit() or int(text) == 0:
        raise ConfigError(f"{MAX_STEPS_VARIABLE}={text!r} is not a positive integer; set it to the number of steps "
                          "an epoch may take (a smoke run) or unset it")
    return int(text)


def check_output_path(path: str | os.PathLike, directory: bool = True) -> Path:
    """``path`` as a :class:`Path` if a directory (``directory``) or a file could be written there, else
    :class:`OutputPathError` saying why: a file stands where a directory must be, the path to write a file
    is a directory, or the first existing folder on the way cannot be written (permissions, a read-only
    file system).  Nothing is created; call it before the first write so that a refused run writes nothing."""
    path = Path(path)
    if path.exists() and path.is_dir() != directory:
        raise OutputPathError(
            f"{path} is a directory; pass the path of a file to write" if not directory
            else f"{path} is a file, not a directory; pass a new path or an earlier run's directory")
    folder = path if directory else path.parent
    while not os.path.lexists(folder):
        folder = folder.parent
    if not folder.is_dir():
        raise OutputPathError(f"cannot create {path}: {folder} is a file, not a directory; "
                              "pass a path that does not go through a file")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputPathError(f"cannot write {path}: {folder.resolve()} is not writable (permissions or a read-only "
                              "file system); pass a path in a directory you can write to")
    return path


def make_dirs(path: str | os.PathLike) -> Path:
    """Create directory ``path`` and its parents after :func:`check_output_path` (an :class:`OutputPathError`
    instead of an ``OSError`` when it cannot be created)."""
    path = check_output_path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:  # what the check cannot foresee (a full disk, a quota, a race)
        raise OutputPathError(f"cannot create {path}: {error.strerror}; "
                              "pass a path in a directory you can write to") from None
    return path


def _fresh_name(parent: Path, name: str, create: Callable[[Path], None]) -> Path:
    """Call ``create(path)`` on a new hidden path ``parent/.<name>.<random>.tmp`` (retried if it exists)."""
    for _ in range(100):
        path = parent / f".{name}.{secrets.token_hex(6)}.tmp"
        try:
            create(path)
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"could not create a temporary file next to {parent / name}; clean up {parent}")


def make_temp_file(parent: Path, name: str) -> Path:
    """Create an empty temporary file in ``parent`` for ``name``, with the mode a new file gets (0666 minus the umask).

    ``tempfile.mkstemp`` creates files 0600 and that mode would survive the rename over ``name``; ``os.open``
    with mode 0666 lets the kernel apply the process's current umask, so nothing here reads or changes it.
    """
    return _fresh_name(Path(parent), name, lambda path: os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)))


def make_temp_dir(parent: Path, name: str) -> Path:
    """Create an empty temporary folder in ``parent`` for ``name``, with the mode a new folder gets (0777 minus the umask)."""
    return _fresh_name(Path(parent), name, lambda path: os.mkdir(path, 0o777))


def atomic_write(path: Path, write: Callable[[str], None]) -> None:
    """Call ``write(tmp_path)`` then rename the temporary file over ``path``: readers never see half a file.

    The file gets the mode of any new file (0644 under umask 022), not a temporary file's 0600.  A path
    that cannot be written is refused by :func:`check_output_path` before anything is created.
    """
    path = check_output_path(path, directory=False)
    make_dirs(path.parent)
    tmp = str(make_temp_file(path.parent, path.name))
    try:
        write(tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    def write(tmp: str) -> None:
        with open(tmp, "w") as handle:
            handle.write(text)

    atomic_write(path, write)


def torch_home() -> Path:
    """``$TORCH_HOME``, else torch's own default ``~/.cache/torch``: where datasets and benchmark files live."""
    return Path(os.environ.get("TORCH_HOME", os.path.join(os.path.expanduser("~"), ".cache", "torch")))


def time_string() -> str:
    """The current UTC time as ``[YYYY-MM-DD HH:MM:SS]``."""
    return time.strftime("[%Y-%m-%d %H:%M:%S]", time.gmtime())


def emit_benchmark(bench: str, case: str, value: float, unit: str, **extra) -> None:
    """Print one benchmark measurement as a JSON line: ``{"bench", "case", "value", "unit", ...context}``.

    Context: versions, CPU count and, when torch is already imported, its thread count and device
    (torch is not imported here, so memory benchmarks can run without it).
    """
    import json
    import os
    import platform
    import sys
    from importlib.metadata import version

    record = {"bench": bench, "case": case, "value": value, "unit": unit, **extra,
              "python": platform.python_version(), "torch": version("torch"), "numpy": version("numpy"),
              "cpus": os.cpu_count(), "machine": platform.machine()}
    torch = sys.modules.get("torch")
    if torch is not None:
        record.setdefault("threads", torch.get_num_threads())
        record.setdefault("device", "cuda" if torch.cuda.is_available() else "cpu")
    print(json.dumps(record), flush=True)
