"""Zero-cost proxies: score an untrained network on one batch (as in NAS-Bench-Suite-Zero), and an evaluator
that searches with them.

``naswot`` (Mellor et al. 2021): log |det K| of the kernel ``K[i, j]`` = number of ReLU units on which
inputs i and j agree (both active or both inactive).  ``synflow`` (Tanaka et al. 2020): with every
parameter replaced by its absolute value and BatchNorm at its initial statistics, the sum over the
conv/linear weights of ``|w * dR/dw|`` where ``R`` is the summed output for an all-ones input (float64).
``snip`` (Lee et al. 2019): the sum of ``|w * dL/dw|`` for the cross-entropy loss of the batch.
``grad_norm``: the sum over conv/linear layers of the L2 norm of ``dL/dw``.  ``jacob_cov`` (Mellor et al.'s
first score, as Abdelfattah et al. 2021 use it): with ``J_i = d(sum of the logits)/dx_i`` for each input of the
batch (one backward pass, the network in training mode), and ``v`` the eigenvalues of the correlation matrix of
the ``J_i``, ``-sum(log(v + k) + 1 / (v + k))`` with ``k = 1e-5`` (NaN when some ``J_i`` is constant).
"""
from __future__ import annotations

import copy
import os
import time
import zlib
from functools import lru_cache
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from ...benchmarks.nb201 import NB201Benchmark
from ...benchmarks.nb201.common import SIMULATE_DATASETS
from ...data import DATASETS, get_datasets, with_transform
from ...errors import ConfigError, require_one_of
from ...models import create_model
from ...spaces.nb201 import Arch
from .evaluators import BenchmarkEvaluator, Evaluation, Evaluator
from .ranks import kendall, spearman
from .settings import SearchSettings
from .space import NB201Space


def _logits(output: Any) -> torch.Tensor:
    return output[-1] if isinstance(output, (tuple, list)) else output


def _weighted_layers(model: nn.Module) -> list[nn.Module]:
    return [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def naswot(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor | None = None) -> float:
    kernel = torch.zeros(len(inputs), len(inputs), dtype=torch.float64)

    def record(module: nn.Module, args: Any, output: torch.Tensor) -> None:
        # agreements = c c^T + (1 - c)(1 - c)^T = 2 c c^T - s_i - s_j + d (s: active units per input, d: units);
        # one float32 product is exact for these integer counts (below 2^24)
        code = (output.detach().flatten(1) > 0).float()
        active = code.sum(dim=1, dtype=torch.float64)
        both = (code @ code.T).double()
        kernel.add_(2 * both - active[:, None] - active[None, :] + code.shape[1])

    hooks = [m.register_forward_hook(record) for m in model.modules() if isinstance(m, nn.ReLU)]
    try:
        with torch.no_grad():
            model(inputs)
    finally:
        for hook in hooks:
            hook.remove()
    return float(torch.linalg.slogdet(kernel)[1])


def synflow(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor | None = None) -> float:
    network = copy.deepcopy(model).double().eval()
    with torch.no_grad():
        for parameter in network.parameters():
            parameter.abs_()
    network.zero_grad()
    ones = torch.ones((1,) + tuple(inputs.shape[1:]), dtype=torch.float64)
    _logits(network(ones)).sum().backward()
    return sum(float((layer.weight.detach() * layer.weight.grad).abs().sum()) for layer in _weighted_layers(network))


def _loss_gradients(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> list[nn.Module]:
    model.zero_grad()
    nn.functional.cross_entropy(_logits(model(inputs)), targets).backward()
    return _weighted_layers(model)


def snip(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> float:
    layers = _loss_gradients(model, inputs, targets)
    return sum(float((layer.weight.detach() * layer.weight.grad).abs().sum()) for layer in layers)


def grad_norm(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> float:
    layers = _loss_gradients(model, inputs, targets)
    return sum(float(layer.weight.grad.norm()) for layer in layers)


def jacob_cov(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor | None = None, k: float = 1e-5) -> float:
    images = inputs.detach().clone().requires_grad_(True)
    model.zero_grad()
    _logits(model(images)).sum().backward()
    with np.errstate(invalid="ignore", divide="ignore"):  # a constant Jacobian: NaN rows, checked below
        correlation = np.corrcoef(images.grad.detach().flatten(1).double().numpy())
    if not np.isfinite(correlation).all():  # an input whose Jacobian is constant (e.g. zero): no correlation
        return float("nan")
    eigenvalues = np.linalg.eigvalsh(correlation)  # symmetric: real eigenvalues
    return float(-np.sum(np.log(eigenvalues + k) + 1.0 / (eigenvalues + k)))


UNDEFINED = -1e30
"""The score of a cell whose proxy is not finite (a dead network): below every defined score."""

PROXIES: dict[str, Callable[[nn.Module, torch.Tensor, torch.Tensor], float]] = {
    "naswot": naswot, "synflow": synflow, "snip": snip, "grad_norm": grad_norm, "jacob_cov": jacob_cov}
"""The zero-cost proxies by name: ``proxy(model, inputs, targets) -> score`` (higher predicts better); the
command line lists the same names in :data:`~.settings.PROXY_NAMES`."""


def fixed_batch(dataset: str, batch_size: int, data_path: str | None = None, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``batch_size`` training images chosen by ``seed`` (through the test-time transform: no augmentation) and their labels."""
    data = get_datasets(dataset, data_path)
    train = with_transform(data.train, data.test.transform)
    order = torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))[:batch_size].tolist()
    images, labels = zip(*(train[i] for i in order))
    return torch.stack(images), torch.as_tensor(labels)


class ProxyEvaluator(Evaluator):
    """Scores an NB201 cell by one zero-cost proxy of its network (``C``, ``N``) at initialisation on one fixed
    batch; the weights are initialised from a seed derived from the search seed and the cell, so a cell's
    score does not depend on when it is asked.  Cost = wall seconds of the scoring."""

    def __init__(self, proxy: str, inputs: torch.Tensor, targets: torch.Tensor, num_classes: int, seed: int = 0,
                 channel: int = 16, num_cells: int = 5) -> None:
        if proxy not in PROXIES:
            raise ConfigError(f"unknown proxy {proxy!r}; expected one of {', '.join(PROXIES)}")
        self.proxy, self.inputs, self.targets, self.num_classes = proxy, inputs, targets, num_classes
        self.seed, self.channel, self.num_cells = seed, channel, num_cells
        self.space = NB201Space()

    def network(self, arch: Arch) -> nn.Module:
        """The untrained network of ``arch`` that the proxies score (in training mode), initialised from the
        seed of the search seed and the cell."""
        torch.manual_seed(zlib.crc32(f"{self.seed}:{arch}".encode()))
        return create_model({"name": "infer.tiny", "C": self.channel, "N": self.num_cells,
                             "num_classes": self.num_classes, "arch_str": str(arch)}).train()

    def score(self, arch: Arch, proxy: str | None = None) -> float:
        value = PROXIES[proxy or self.proxy](self.network(arch), self.inputs, self.targets)
        return value if np.isfinite(value) else UNDEFINED  # e.g. log det of a singular kernel: ranks last

    def evaluate(self, candidate: Arch, budget: float | None, trial: int) -> Evaluation:
        start = time.perf_counter()
        value = self.score(candidate)
        return Evaluation(value, time.perf_counter() - start)

    def describe(self) -> dict[str, Any]:
        return {"kind": "proxy", "proxy": self.proxy, "batch": list(self.inputs.shape), "seed": self.seed,
                "channel": self.channel, "num_cells": self.num_cells}

    def benchmark_correlations(self, bench: NB201Benchmark, dataset: str, archs: list[Arch]) -> dict[str, Any]:
        """Spearman and Kendall correlation of every proxy with the final accuracy on ``dataset`` of ``bench``,
        over ``archs`` (e.g. the cells a search scored)."""
        require_one_of("benchmark dataset", dataset, SIMULATE_DATASETS)
        lookup = BenchmarkEvaluator(bench, dataset)
        accuracies = np.array([bench.final_accuracy(lookup.index(cell), dataset) for cell in archs])
        return {"cells": len(archs), **proxy_correlations(self, archs, accuracies)}


def proxy_correlations(evaluator: ProxyEvaluator, archs: list[Arch], accuracies: np.ndarray,
                       proxies: tuple[str, ...] = tuple(PROXIES)) -> dict[str, dict[str, float]]:
    """Spearman's rho and Kendall's tau of each proxy's scores on ``archs`` with their ``accuracies``."""
    table = {}
    for proxy in proxies:
        scores = np.array([evaluator.score(arch, proxy) for arch in archs])
        table[proxy] = {"spearman": spearman(scores, accuracies), "kendall": kendall(scores, accuracies)}
    return table


@lru_cache(maxsize=2)
def cached_batch(dataset: str, size: int, data_path: str | None) -> tuple[torch.Tensor, torch.Tensor, int]:
    """:func:`fixed_batch` (seed 0) and the dataset's number of classes, read once per process."""
    inputs, targets = fixed_batch(dataset, size, data_path)
    return inputs, targets, get_datasets(dataset, data_path).num_classes


def check(settings: SearchSettings) -> None:
    """Refuse a proxy search's bad settings before anything is written: ``--dataset`` names the benchmark
    accuracies the proxies are correlated with (with ``--benchmark``), else a dataset; the batch's data too."""
    if settings.benchmark is not None:
        require_one_of("benchmark dataset", settings.dataset, SIMULATE_DATASETS)
    else:
        require_one_of("dataset", settings.dataset, DATASETS.names())
    require_one_of("proxy data", settings.proxy_data, DATASETS.names())


def from_settings(settings: SearchSettings, seed: int, save_dir: str | os.PathLike | None) -> ProxyEvaluator:
    """The proxy evaluator of a command-line search with ``seed`` (its batch is read once per process)."""
    inputs, targets, classes = cached_batch(settings.proxy_data, settings.proxy_batch, settings.data_path)
    return ProxyEvaluator(settings.proxy, inputs, targets, classes, seed=seed, channel=settings.channel,
                          num_cells=settings.num_cells)
