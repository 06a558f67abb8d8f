"""The finished runs of a multi-run search (:func:`~.run.search_many`): ``runs.jsonl`` in its directory, one JSON
line per run, appended and flushed as the run ends and synced to disk once when the search ends (one fsync, not
one per run).  A search killed while writing a line loses that line only: a restart drops it and runs that seed
again.  Directories of older versions hold ``runs/seed-<s>.json`` files instead; those are still read (a row
without incumbent scores, older still, runs again)."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ...errors import CheckpointError

RUNS_LOG = "runs.jsonl"
LEGACY_RUNS = "runs"


class RunsLog:
    """``rows``: seed -> the row of every finished run found in ``save_dir``; :meth:`append` adds one (use the log
    as a context manager around the appends: leaving it syncs the file)."""

    def __init__(self, save_dir: str | os.PathLike) -> None:
        save_dir = Path(save_dir)
        self.path, self.legacy = save_dir / RUNS_LOG, save_dir / LEGACY_RUNS
        self.rows: dict[int, dict[str, Any]] = {}
        if self.legacy.is_dir():
            for path in sorted(self.legacy.glob("seed-*.json")):
                row = json.loads(path.read_text())
                if "incumbents" in row:
                    self.rows[row["seed"]] = row
        if self.path.is_file():
            self._read()
        self._handle = None

    def _read(self) -> None:
        data = self.path.read_bytes()
        end = data.rfind(b"\n") + 1
        if end < len(data):  # the last line was cut by a kill: drop it, so that appends start a fresh line
            with open(self.path, "r+b") as handle:
                handle.truncate(end)
        for number, line in enumerate(data[:end].splitlines(), start=1):
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                raise CheckpointError(f"{self.path} line {number} is not a run record; remove the file to run "
                                      "every seed again, or use a new --save-dir") from None
            self.rows[row["seed"]] = row

    def holds_runs(self) -> bool:
        """Whether the directory holds any run (of any version)."""
        return bool(self.rows) or (self.legacy.is_dir() and any(self.legacy.iterdir()))

    def __enter__(self) -> "RunsLog":
        self._handle = open(self.path, "a")
        return self

    def append(self, row: dict[str, Any]) -> None:
        self._handle.write(json.dumps(row) + "\n")
        self._handle.flush()  # in the OS's hands: a killed process keeps every finished run
        self.rows[row["seed"]] = row

    def __exit__(self, *exc: Any) -> None:
        os.fsync(self._handle.fileno())
        self._handle.close()
        self._handle = None
