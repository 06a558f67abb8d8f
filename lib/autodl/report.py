"""The AutoDL-Projects README's results tables, rebuilt from search and retraining run directories.

A **search** directory holds ``config.json`` with an ``algorithm`` and, once finished, ``result.json``
(the artifact: architecture, seed, search cost).  A **retraining** directory (``exps/train-searched.py``)
holds ``config.json`` with a ``model`` and ``metrics.jsonl``; it is finished when its last record is
the recipe's last epoch.  Retrainings are matched to the search whose architecture and dataset they
share.  Costs are reported in days of the device the run used (``device=`` in ``log.txt``): GPU
days for CUDA runs, CPU days otherwise, labelled as such.
"""
from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from .algorithms.registry import ALGORITHMS
from .config import OptimConfig, config_from_dict
from .engine.flops import count_parameters
from .engine.rundir import RunDir
from .errors import AutoDLError
from .models import create_model
from .spaces.artifact import load_artifact
from .spaces.nasnet import Genotype
from .spaces.nb201 import Arch

SECONDS_PER_DAY = 86400.0


@dataclass(frozen=True)
class Published:
    """A published row of the README's comparison table (CIFAR-10, DARTS space)."""

    source: str
    error: str
    search_gpu_days: float | None
    params_m: float | None = None
    train_gpu_days: float | None = None


PUBLISHED: dict[str, list[Published]] = {
    "DARTS-V1": [Published("Paper", "3.00±0.14", 0.25, 3.3),
                 Published("AutoDL-Projects", "3.56±0.04", 0.26, 1.73, 1.33)],
    "DARTS-V2": [Published("Paper", "2.76±0.09", 1.0, 3.3), Published("AutoDL-Projects", "-", 1.43)],
    "GDAS": [Published("Paper", "2.93", 0.21, 3.4), Published("AutoDL-Projects", "2.89±0.05", 0.19, 3.77, 2.25)],
    "DARTS+": [Published("Paper", "2.50±0.11", 0.4), Published("AutoDL-Projects", "2.97±0.07", 0.51)],
    "DARTS+(V1)": [Published("AutoDL-Projects", "3.19±0.00", 0.17)],
    "NASP": [Published("Paper", "2.83±0.09", 0.1, 3.3), Published("AutoDL-Projects", "3.34±0.07", 0.25, 2.40, 1.29)],
    "NASP(12ops)": [Published("Paper", "2.44±0.04", 0.2, 7.4),
                    Published("AutoDL-Projects", "2.44±0.04", 0.25, 8.27, 1.5)],
}
"""The numbers of ``AutoDL-Projects-README.md`` ("Results on CIFAR10", Comparison and per-method tables)."""


@dataclass
class SearchRun:
    path: Path
    model: str
    dataset: str
    arch: Arch | Genotype
    seed: int
    cost_days: float
    device: str
    valid_top1: float | None
    retrainings: list["RetrainRun"] = field(default_factory=list)


@dataclass
class RetrainRun:
    path: Path
    dataset: str
    arch: Arch | Genotype
    seed: int
    test_error: float
    params_m: float
    cost_days: float
    device: str


def run_device(path: Path) -> str:
    """``GPU`` or ``CPU``: the device the run logged (``device=...`` in ``log.txt``)."""
    log = path / "log.txt"
    match = re.search(r"device=(\S+)", log.read_text()) if log.is_file() else None
    return "GPU" if match and match.group(1).startswith("cuda") else "CPU"


def _arch_of_model(model: dict[str, Any]) -> Arch | Genotype | None:
    if "genotype" in model:
        return Genotype.from_dict(model["genotype"])
    if "arch_str" in model:
        return Arch.from_str(model["arch_str"])
    return None


def read_run(path: Path) -> SearchRun | RetrainRun | str:
    """The run in ``path``, or one line saying why it is skipped."""
    config_path = path / "config.json"
    if not config_path.is_file():
        return f"skipped {path}: not a run directory (no config.json)"
    config = json.loads(config_path.read_text())
    records = RunDir(path, echo=False).read_metrics()
    if "algorithm" in config:
        if not (path / "result.json").is_file():
            return f"skipped {path}: unfinished search ({len(records)} epochs, no result.json yet)"
        artifact = load_artifact(path / "result.json")
        last = records[-1] if records else {}
        valid = last.get("valid_top1", last.get("train_arch_top1"))
        arch = Arch.from_str(artifact.arch) if isinstance(artifact.arch, str) else artifact.arch
        return SearchRun(path, _title(artifact.algorithm), artifact.dataset, arch,
                         artifact.seed, artifact.search_cost_s / SECONDS_PER_DAY, run_device(path), valid)
    arch = _arch_of_model(config.get("model", {}))
    if arch is None:
        return f"skipped {path}: not a search or a retraining of a searched cell (model {config.get('model', {}).get('name')!r})"
    epochs = config_from_dict(OptimConfig, config["optim"], f"{config_path}: optim").total_epochs
    if len(records) < epochs or "test_top1" not in records[-1]:
        return f"skipped {path}: unfinished retraining ({len(records)} of {epochs} epochs)"
    params = count_parameters(create_model(config["model"])) / 1e6
    cost = sum(r.get("epoch_time_s", 0.0) for r in records) / SECONDS_PER_DAY
    return RetrainRun(path, config["dataset"], arch, config["seed"], 100.0 - records[-1]["test_top1"], params, cost,
                      run_device(path))


def collect(paths: Iterable[str | os.PathLike]) -> tuple[list[SearchRun], list[RetrainRun], list[str]]:
    """Read every directory; retrainings are attached to the search of the same cell and dataset."""
    searches, retrains, skipped = [], [], []
    for path in paths:
        try:
            run = read_run(Path(path))
        except (AutoDLError, json.JSONDecodeError) as error:
            run = f"skipped {path}: {error}"
        (skipped if isinstance(run, str) else searches if isinstance(run, SearchRun) else retrains).append(run)
    for retrain in retrains:
        for search in searches:
            if search.arch == retrain.arch and _same_data(search.dataset, retrain.dataset):
                search.retrainings.append(retrain)
                break
    return searches, retrains, skipped


SEARCH_DATA_SOURCE = {"digits16": "digits"}
"""Search datasets that are a resized copy of a retraining dataset."""


def _same_data(search_dataset: str, retrain_dataset: str) -> bool:
    """A search on ``digits16`` retrains on ``digits``; otherwise on the dataset it searched."""
    return SEARCH_DATA_SOURCE.get(search_dataset, search_dataset) == retrain_dataset


def mean_std(values: list[float]) -> str:
    if not values:
        return "-"
    mean = sum(values) / len(values)
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
    return f"{mean:.2f}±{std:.2f}"


def _days(value: float | None, device: str) -> str:
    if value is None:
        return "-"
    return f"{value:.2f} {device}" if value >= 0.01 else f"{value:.2e} {device}"


def _genotype_label(arch: Arch | Genotype) -> str:
    """An NB201 cell string (its ``|`` escaped for Markdown tables), or ``genotype``."""
    return str(arch).replace("|", "\\|") if isinstance(arch, Arch) else "genotype"


def render(searches: list[SearchRun], retrains: list[RetrainRun]) -> str:
    """The per-method tables and the comparison table in Markdown."""
    lines: list[str] = []
    models = sorted({s.model for s in searches}, key=lambda m: list(PUBLISHED).index(m) if m in PUBLISHED else 99)
    for model in models:
        runs = sorted((s for s in searches if s.model == model), key=lambda s: s.seed)
        lines += [f"### {model}", "", "|Model|Error(%)|Search cost (days)|Genotypes|Val_acc of arch|Search-seed|",
                  "|:--:|:--:|:--:|:--:|:--:|:--:|"]
        for row in PUBLISHED.get(model, []):
            lines.append(f"|{model}|{row.error}|{_days(row.search_gpu_days, 'GPU')}|{row.source}|-|-|")
        for k, run in enumerate(runs, 1):
            error = mean_std([r.test_error for r in run.retrainings])
            valid = "-" if run.valid_top1 is None else f"{run.valid_top1:.2f}"
            lines.append(f"|{model}|{error}|{_days(run.cost_days, run.device)}|Searched {k} (ours, {run.dataset})"
                         f"|{valid}|{run.seed}|")
        lines.append("")
    lines += ["### Comparison", "", "|Model|Error(%)|Search cost (days)|Genotypes|Params(M)|Train cost (days)|",
              "|:--:|:--:|:--:|:--:|:--:|:--:|"]
    for model in models:
        for row in PUBLISHED.get(model, []):
            params = "-" if row.params_m is None else f"{row.params_m:.2f}"
            lines.append(f"|{model}|{row.error}|{_days(row.search_gpu_days, 'GPU')}|{row.source}|{params}"
                         f"|{_days(row.train_gpu_days, 'GPU')}|")
        for k, run in enumerate(sorted((s for s in searches if s.model == model), key=lambda s: s.seed), 1):
            if not run.retrainings:
                continue
            params = run.retrainings[0].params_m
            train = sum(r.cost_days for r in run.retrainings) / len(run.retrainings)
            lines.append(f"|{model}|{mean_std([r.test_error for r in run.retrainings])}|{_days(run.cost_days, run.device)}"
                         f"|Searched {k} (ours, {len(run.retrainings)} seeds)|{params:.2f}"
                         f"|{_days(train, run.retrainings[0].device)}|")
    matched = {id(r) for s in searches for r in s.retrainings}
    for retrain in retrains:
        if id(retrain) not in matched:
            lines.append(f"|-|{retrain.test_error:.2f}|-|{_genotype_label(retrain.arch)} "
                         f"(retrained, no search given: {retrain.path.name})|{retrain.params_m:.2f}"
                         f"|{_days(retrain.cost_days, retrain.device)}|")
    return "\n".join(lines) + "\n"


def _title(algorithm: str) -> str:
    """The report name of a search (its registered title, the README's spelling); an unregistered name as it is."""
    return ALGORITHMS.get(algorithm).title if algorithm in ALGORITHMS else algorithm
