"""Architecture artifacts: a searched architecture and its metadata, saved as one JSON file.

Layout: ``{"format": "autodl-architecture", "version": 1, "space": "nas-bench-201" | "nasnet",
"arch": <NB201 string | genotype dict>, "algorithm", "seed", "dataset", "search_cost_s",
"benchmark": {"hp": ..., "split": ..., <numbers>} | null, ...extra keys}``.  ``create_model`` (the
``nasnet-*`` networks) and the training entry point read it directly.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..utils import atomic_write_text
from .nasnet import Genotype
from .nb201 import Arch, SpaceError

ARTIFACT_FORMAT = "autodl-architecture"
ARTIFACT_VERSION = 1
SPACES = ("nas-bench-201", "nasnet")
_CORE_KEYS = ("format", "version", "space", "arch", "algorithm", "seed", "dataset", "search_cost_s", "benchmark")


class ArtifactError(SpaceError):
    """An architecture artifact file is missing, malformed or of an unsupported format."""


@dataclass(frozen=True)
class Artifact:
    """A loaded artifact: the architecture (NB201 string or :class:`Genotype`) and its metadata."""

    space: str
    arch: str | Genotype
    algorithm: str
    seed: int | None
    dataset: str
    search_cost_s: float | None = None
    benchmark: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object written to disk."""
        arch = self.arch.to_dict() if isinstance(self.arch, Genotype) else self.arch
        data = {"format": ARTIFACT_FORMAT, "version": ARTIFACT_VERSION, "space": self.space, "arch": arch,
                "algorithm": self.algorithm, "seed": self.seed, "dataset": self.dataset,
                "search_cost_s": self.search_cost_s, "benchmark": self.benchmark}
        data.update(self.extra)
        return data


def _check_nb201(arch: Any, where: str) -> str:
    if not isinstance(arch, str):
        raise ArtifactError(f"{where}: the NAS-Bench-201 'arch' is a {type(arch).__name__}; expected its string, "
                            "for example '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|...|'")
    return str(Arch.from_str(arch))


def _check_benchmark(benchmark: Any, where: str) -> dict[str, Any] | None:
    if benchmark is None:
        return None
    if not isinstance(benchmark, Mapping):
        raise ArtifactError(f"{where}: 'benchmark' is a {type(benchmark).__name__}; expected an object "
                            "with 'hp', 'split' and the numbers, or null")
    missing = [key for key in ("hp", "split") if not isinstance(benchmark.get(key), str)]
    if missing:
        raise ArtifactError(f"{where}: 'benchmark' lacks the string {missing[0]!r}; spell out which training "
                            "budget ('hp', e.g. '200') and which evaluation split ('split', e.g. 'ori-test') "
                            "the numbers are for")
    return dict(benchmark)


def _make_artifact(data: Mapping[str, Any], where: str) -> Artifact:
    space = data.get("space")
    if space not in SPACES:
        raise ArtifactError(f"{where}: unknown space {space!r}; expected one of {', '.join(SPACES)}")
    if "arch" not in data:
        raise ArtifactError(f"{where}: missing 'arch'; expected the architecture of the {space} space")
    try:
        arch = Genotype.from_dict(data["arch"]) if space == "nasnet" else _check_nb201(data["arch"], where)
    except ArtifactError:
        raise
    except SpaceError as error:
        raise ArtifactError(f"{where}: {error}") from None
    algorithm, dataset, seed = data.get("algorithm"), data.get("dataset"), data.get("seed")
    if not isinstance(algorithm, str) or not isinstance(dataset, str):
        raise ArtifactError(f"{where}: 'algorithm' and 'dataset' must be strings, got {algorithm!r} and {dataset!r}; "
                            "record which search produced the architecture on which data")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ArtifactError(f"{where}: 'seed' is {seed!r}; expected an integer or null")
    cost = data.get("search_cost_s")
    if cost is not None and (isinstance(cost, bool) or not isinstance(cost, (int, float))
                             or not math.isfinite(cost) or cost < 0):
        raise ArtifactError(f"{where}: 'search_cost_s' is {cost!r}; expected a non-negative number of seconds or null")
    extra = {key: value for key, value in data.items() if key not in _CORE_KEYS}
    return Artifact(space, arch, algorithm, seed, dataset, None if cost is None else float(cost),
                    _check_benchmark(data.get("benchmark"), where), extra)


def save_artifact(path: str | os.PathLike, arch: str | Arch | Genotype | Mapping[str, Any], *,
                  algorithm: str, dataset: str,
                  seed: int | None = None, search_cost_s: float | None = None,
                  benchmark: Mapping[str, Any] | None = None, space: str | None = None,
                  **extra: Any) -> Artifact:
    """Validate and write an artifact atomically; ``space`` defaults to ``nasnet`` for a Genotype, else NB201.

    NB201 strings are validated with :meth:`Arch.from_str` and stored in canonical form.

    ``extra`` keys (for example the resolved search ``config``) are stored alongside and must be JSON-able.
    """
    space = space or ("nasnet" if isinstance(arch, (Genotype, Mapping)) else "nas-bench-201")
    if isinstance(arch, Genotype):
        arch = arch.to_dict()
    elif isinstance(arch, Arch):
        arch = str(arch)
    artifact = _make_artifact({**extra, "space": space, "arch": arch, "algorithm": algorithm, "seed": seed,
                               "dataset": dataset, "search_cost_s": search_cost_s, "benchmark": benchmark},
                              str(path))
    try:
        text = json.dumps(artifact.to_dict(), indent=2, allow_nan=False) + "\n"
    except (TypeError, ValueError) as error:
        raise ArtifactError(f"{path}: the artifact cannot be written as JSON ({error}); "
                            "pass only JSON-able extra values") from None
    atomic_write_text(Path(path), text)
    return artifact


def load_artifact(path: str | os.PathLike) -> Artifact:
    """Read and validate an artifact written by :func:`save_artifact`."""
    where = str(path)
    try:
        text = Path(path).read_text()
    except OSError as error:
        raise ArtifactError(f"cannot read architecture artifact {where}: {error.strerror}; check the path") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ArtifactError(f"{where}: invalid JSON at line {error.lineno} column {error.colno} ({error.msg}); "
                            "expected an architecture artifact written by save_artifact") from None
    if not isinstance(data, dict) or data.get("format") != ARTIFACT_FORMAT:
        raise ArtifactError(f"{where}: not an architecture artifact (expected a JSON object with "
                            f"\"format\": \"{ARTIFACT_FORMAT}\"); write it with save_artifact")
    if data.get("version") != ARTIFACT_VERSION:
        raise ArtifactError(f"{where}: artifact version {data.get('version')!r} is not supported; "
                            f"expected version {ARTIFACT_VERSION}")
    return _make_artifact(data, where)
