"""Small helpers shared across the package: atomic file writes and time strings."""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Callable


def atomic_write(path: Path, write: Callable[[str], None]) -> None:
    """Call ``write(tmp_path)`` then rename the temporary file over ``path``: readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
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
