"""What defines a multi-trial search from the command line, and where each evaluator is built.

Nothing here imports torch: a benchmark search never does.  The training and proxy evaluators need it;
their modules are imported only when a search chooses them (:data:`EVALUATORS`).
"""
from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

EVALUATORS = {"benchmark": "autodl.algorithms.multitrial.evaluators",
              "training": "autodl.algorithms.multitrial.training",
              "proxy": "autodl.algorithms.multitrial.proxies"}
"""Evaluator name -> the module that builds it from :class:`SearchSettings`: its ``check(settings)`` refuses bad
settings before anything is written, its ``from_settings(settings, seed, save_dir)`` builds the evaluator."""

PROXY_NAMES = ("naswot", "synflow", "snip", "grad_norm", "jacob_cov")
"""The zero-cost proxies of :data:`autodl.algorithms.multitrial.proxies.PROXIES`, named here for the command
line (choosing one must not import torch before the proxy evaluator is chosen)."""


@dataclass(frozen=True)
class SearchSettings:
    """Everything that defines a search (``options``: the algorithm's keyword arguments, e.g. ``population``)."""

    algorithm: str
    dataset: str
    time_budget: float | None = 12000.0
    max_trials: int | None = None
    evaluator: str = "benchmark"
    benchmark: str | None = None
    multi_fidelity: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    proxy: str = "naswot"
    proxy_data: str = "digits16"
    proxy_batch: int = 64
    channel: int = 16
    num_cells: int = 5
    recipe: str | None = None
    epochs: int = 12
    batch_size: int = 64
    data_path: str | None = None
    device: str = "cpu"
    workers: int = 1

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def evaluator_module(name: str) -> ModuleType:
    """The module of evaluator ``name`` (imported now: the first import of torch for training and proxies)."""
    return importlib.import_module(EVALUATORS[name])
