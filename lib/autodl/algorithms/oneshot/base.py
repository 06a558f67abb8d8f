"""The one weight-sharing search task on the shared :class:`~autodl.engine.trainer.Trainer`.

:class:`SearchTask` owns what every one-shot search shares: the supernet, the paired search loaders,
the weight optimiser and schedule, the architecture optimiser, a rank-consistent random generator for
sampling, gradient averaging under DDP, evaluation, the per-epoch derived architecture with collapse
diagnostics and benchmark numbers, and the checkpointed state.  An algorithm is a small subclass
that fills :meth:`search_step` (and, where it differs, the epoch-end selection and the final
architecture).
"""
from __future__ import annotations

import math
import time
from abc import abstractmethod
from typing import Any, ClassVar, Iterable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...config import OptimConfig, SearchConfig
from ...data.search import SearchLoaders
from ...engine.classification import to_device
from ...engine.distributed import DistInfo, average_buffers, average_gradients
from ...engine.losses import build_criterion
from ...engine.meters import correct_topk
from ...engine.optim import build_optim_scheduler
from ...engine.trainer import Task
from ...errors import CheckpointError
from ...spaces.nasnet import Genotype
from ...spaces.nb201 import Arch

Choice = tuple[list[torch.Tensor] | None, list[list[int]] | None]


def arch_ops(arch: Arch | Genotype) -> list[str]:
    """The op names of a derived cell (both cells of a genotype)."""
    if isinstance(arch, Arch):
        return list(arch.to_ops())
    return [op for cell in (arch.normal, arch.reduce) for node in cell for op, _ in node]


def collapse_diagnostics(arch: Arch | Genotype, probabilities: Sequence[torch.Tensor]) -> dict[str, float]:
    """Fraction of ``skip_connect`` and ``none`` ops in the derived cell and the mean per-edge entropy
    (nats) of the architecture distribution: the signs of DARTS's collapse to parameter-free cells."""
    ops = arch_ops(arch)
    rows = [p.detach().double().reshape(-1, p.shape[-1]) for p in probabilities]  # tables may differ in width
    entropy = torch.cat([-(r * r.clamp_min(1e-30).log()).sum(dim=1) for r in rows]).mean()
    return {"skip_fraction": ops.count("skip_connect") / len(ops), "none_fraction": ops.count("none") / len(ops),
            "arch_entropy": float(entropy)}


class SearchTask(Task):
    """A weight-sharing search on ``supernet`` (an NB201 or NASNet supernet of :mod:`autodl.models`).

    ``train_step`` unpacks a paired batch ``(inputs, targets, arch_inputs, arch_targets)`` and calls
    :meth:`search_step`; ``end_epoch`` runs :meth:`select` (evaluation / candidate selection), then
    records the derived architecture, its diagnostics and, with a benchmark, its benchmark numbers.
    """

    name: ClassVar[str] = ""
    Settings: ClassVar[type[SearchConfig]] = SearchConfig  # the algorithm's settings: the shared ones plus its own
    # space -> the registered supernet model it searches (a variant registers its own, built from its cell class)
    supernets: ClassVar[dict[str, str]] = {"nas-bench-201": "search.nb201", "darts": "search.nasnet"}
    uses_arch_parameters: ClassVar[bool] = True
    clip_weights: ClassVar[bool] = True

    def __init__(self, supernet: nn.Module, loaders: SearchLoaders, optim: OptimConfig, search: SearchConfig,
                 device: torch.device, dist_info: DistInfo = DistInfo(), seed: int = 0,
                 benchmark: Any = None) -> None:
        self.supernet, self.loaders, self.optim_config, self.config = supernet, loaders, optim, search
        self.device, self.dist_info, self.benchmark = device, dist_info, benchmark
        self.train_loader: Iterable = loaders.search
        self.w_optimizer, self.scheduler = build_optim_scheduler(supernet.weight_parameters(), optim)
        self.a_optimizer = (torch.optim.Adam(self.stepped_arch_parameters, lr=search.arch_LR,
                                             betas=tuple(search.arch_betas), eps=search.arch_eps,
                                             weight_decay=search.arch_decay)
                            if self.uses_arch_parameters else None)
        self.criterion = build_criterion(optim)
        # every draw of an architecture comes from this generator: seeded alike on every rank, untouched by data loading
        self.generator = torch.Generator().manual_seed(seed)
        self.selected: Arch | Genotype | None = None

    @classmethod
    def cell_options(cls, search: SearchConfig) -> dict[str, Any]:
        """The search cells' own keyword arguments under ``search`` (``cell_options`` of the supernet's model
        config, e.g. PC-DARTS's K); default none."""
        return {}

    # ------------------------------------------------------------------ architecture values
    @property
    def arch_parameters(self) -> list[nn.Parameter]:
        """The op tables (edges x ops, one per entry of the supernet's ``op_lists``)."""
        return self.supernet.arch_parameters()

    @property
    def stepped_arch_parameters(self) -> list[nn.Parameter]:
        """What the architecture optimiser steps: the op tables and the cells' extra architecture tensors."""
        return self.arch_parameters + list(self.supernet.extra_arch_parameters().values())

    def softmax_weights(self) -> list[torch.Tensor]:
        return [F.softmax(alpha, dim=-1) for alpha in self.arch_parameters]

    def arch_probabilities(self) -> list[torch.Tensor]:
        """The architecture distribution, one (edges x ops) tensor per architecture tensor."""
        return [w.detach() for w in self.softmax_weights()]

    def derivation_tables(self) -> list[torch.Tensor]:
        """The (edges x ops) tables the cell is derived from by the space's rule (default:
        :meth:`arch_probabilities`; PC-DARTS weights them by its edge normalisation, NASP takes its parameters)."""
        return self.arch_probabilities()

    def current_arch(self) -> Arch | Genotype:
        """The architecture the search holds now: a selected candidate, else derived from :meth:`derivation_tables`."""
        return self.selected if self.selected is not None else self.supernet.derive(self.derivation_tables())

    def arch_of(self, indices: Sequence[Sequence[int]]) -> Arch | Genotype:
        """The discrete architecture of sampled op indices (a NASNet genotype keeps the two strongest
        inputs per node, ranked by the architecture distribution where there is one)."""
        if self.supernet.space == "nas-bench-201":
            return Arch(tuple(indices[0]))
        onehots = [F.one_hot(torch.tensor(list(ix)), ops).double() for ix, (_, ops) in zip(indices, self.arch_shapes)]
        if self.uses_arch_parameters:
            onehots = [o * p.double().cpu() for o, p in zip(onehots, self.arch_probabilities())]
        return self.supernet.derive(onehots)

    def sample_uniform(self) -> list[list[int]]:
        """Each edge's op uniformly at random over its cell type's ops (``none`` included), from the
        rank-consistent generator."""
        return [torch.randint(ops, (edges,), generator=self.generator).tolist() for edges, ops in self.arch_shapes]

    @property
    def arch_shapes(self) -> list[tuple[int, int]]:
        return [tuple(alpha.shape) for alpha in self.arch_parameters]

    # ------------------------------------------------------------------------------- steps
    def forward(self, inputs: torch.Tensor, weights: list[torch.Tensor] | None = None,
                indices: list[list[int]] | None = None, detach_arch: bool = False) -> torch.Tensor:
        """The supernet's logits under an architecture choice, with the cells' extra architecture tensors
        as its architecture inputs (detached in weight steps)."""
        extras = {name: p.detach() if detach_arch else p for name, p in self.supernet.extra_arch_parameters().items()}
        return self.supernet(inputs, weights=weights, indices=indices, **extras)[1]

    def weight_step(self, inputs: torch.Tensor, targets: torch.Tensor, weights: list[torch.Tensor] | None = None,
                    indices: list[list[int]] | None = None) -> dict[str, Any]:
        """One SGD step of the supernet weights on a batch under an architecture choice (weights detached).

        Every op of the supernets has its own parameters, so an op that ran neither in this step nor in an
        earlier one has no gradient; ``config.unused_ops`` says what happens to one that ran before but
        not now: ``decay`` zeroes its gradient in place (SGD still applies weight decay and momentum, as
        the original did on PyTorch 1.x), ``skip`` drops it (SGD leaves it alone, PyTorch >= 2)."""
        self.w_optimizer.zero_grad(set_to_none=self.config.unused_ops == "skip")
        weights = None if weights is None else [w.detach() for w in weights]
        logits = self.forward(inputs, weights, indices, detach_arch=True)
        loss = self.criterion(logits, targets)
        loss.backward()
        params = self.supernet.weight_parameters()
        average_gradients(params)
        if self.clip_weights and self.config.gradient_clip > 0:
            nn.utils.clip_grad_norm_(params, self.config.gradient_clip)
        self.w_optimizer.step()
        return self._sums("", loss, logits, targets)

    def arch_step(self, inputs: torch.Tensor, targets: torch.Tensor, weights: list[torch.Tensor],
                  indices: list[list[int]] | None = None) -> dict[str, Any]:
        """One Adam step of the architecture parameters on the architecture batch."""
        self.a_optimizer.zero_grad(set_to_none=True)
        logits = self.forward(inputs, weights, indices)
        loss = self.criterion(logits, targets)
        loss.backward()
        self.apply_arch_gradients()
        return self._sums("arch_", loss, logits, targets)

    def apply_arch_gradients(self) -> None:
        """Average the architecture gradients over processes and step their optimiser."""
        average_gradients(self.stepped_arch_parameters)
        self.a_optimizer.step()

    @staticmethod
    def _sums(prefix: str, loss: torch.Tensor, logits: torch.Tensor, targets: torch.Tensor) -> dict[str, Any]:
        with torch.no_grad():
            (top1,) = correct_topk(logits, targets, (1,))
            n = len(targets)
            return {f"{prefix}loss": loss.detach() * n, f"{prefix}top1": top1 * 100.0}

    @abstractmethod
    def search_step(self, inputs: torch.Tensor, targets: torch.Tensor, *arch_batch: torch.Tensor) -> dict[str, Any]:
        """One step on a batch of :attr:`train_loader` (paired: ``arch_batch`` = the architecture half's
        inputs and targets); returns per-batch sums (without ``n``)."""

    # --------------------------------------------------------------------------- task hooks
    def start_epoch(self, epoch: int, total_epochs: int) -> None:
        self.scheduler.update(epoch, 0.0)
        for loader in (self.loaders.search, self.loaders.train):
            sampler = getattr(loader, "sampler", None)
            if hasattr(sampler, "set_epoch"):
                sampler.set_epoch(epoch)
        self.supernet.train()

    def train_step(self, batch: Any, epoch: int, fraction: float) -> dict[str, Any]:
        self.scheduler.update(epoch, fraction)
        tensors = [to_device(t, self.device) for t in batch]
        return {**self.search_step(*tensors), "n": len(tensors[1])}

    def end_epoch(self, epoch: int, total_epochs: int) -> dict[str, Any]:
        average_buffers(self.supernet)
        began = time.perf_counter()
        metrics: dict[str, Any] = {"lr": self.scheduler.get_lr()[0], **self.select(epoch)}
        metrics["select_time_s"] = time.perf_counter() - began
        return {**metrics, **self.describe_arch()}

    def describe_arch(self) -> dict[str, Any]:
        """The derived architecture, its diagnostics, the distribution and, with a benchmark, its numbers."""
        arch = self.current_arch()
        probabilities = self.arch_probabilities()
        record: dict[str, Any] = {"arch": arch.to_dict() if isinstance(arch, Genotype) else str(arch)}
        record.update(collapse_diagnostics(arch, probabilities))
        record["arch_probs"] = [np.round(p.double().cpu().numpy(), 6).tolist() for p in probabilities]
        if self.benchmark is not None and isinstance(arch, Arch):
            record.update(benchmark_numbers(self.benchmark, arch))
        return record

    def select(self, epoch: int) -> dict[str, Any]:
        """Epoch-end evaluation or candidate selection (default: the weighted supernet on the valid set)."""
        return prefixed("valid_", self.evaluate(self.loaders.valid, weights=self.softmax_weights()))

    def final_arch(self) -> Arch | Genotype:
        """The search's answer after the last epoch (default: the current architecture)."""
        return self.current_arch()

    def result_extra(self) -> dict[str, Any]:
        """Algorithm-specific facts for the result artifact (default: none)."""
        return {}

    # ---------------------------------------------------------------------------- evaluation
    @torch.no_grad()
    def evaluate(self, loader: Iterable, weights: list[torch.Tensor] | None = None,
                 indices: list[list[int]] | None = None, sampler=None, batches: int | None = None) -> dict[str, float]:
        """Loss and top-1 of the supernet under an architecture choice (``sampler()`` draws one per batch)."""
        was_training = self.supernet.training
        self.supernet.eval()
        totals = torch.zeros(3, dtype=torch.float64)
        for step, (inputs, targets) in enumerate(loader):
            if batches is not None and step >= batches:
                break
            inputs, targets = to_device(inputs, self.device), to_device(targets, self.device)
            choice_indices = sampler() if sampler is not None else indices
            logits = self.forward(inputs, weights, choice_indices)
            (top1,) = correct_topk(logits, targets, (1,))
            totals += torch.tensor([float(self.criterion(logits, targets)) * len(targets), float(top1), len(targets)],
                                   dtype=torch.float64)
        self.supernet.train(was_training)
        loss, top1, count = totals.tolist()
        count = count or 1.0
        return {"loss": loss / count, "top1": 100.0 * top1 / count}

    def best_of(self, candidates: Sequence[list[list[int]]]) -> tuple[list[list[int]], float]:
        """The candidate with the highest top-1 on one valid batch each (batches taken in turn, cycling)."""
        best, best_top1 = None, -math.inf
        batches = iter(self.loaders.valid)
        for candidate in candidates:
            try:
                batch = next(batches)
            except StopIteration:
                batches = iter(self.loaders.valid)
                batch = next(batches)
            top1 = self.evaluate([batch], indices=candidate)["top1"]
            if top1 > best_top1:
                best, best_top1 = candidate, top1
        return best, best_top1

    # -------------------------------------------------------------------------------- state
    def state_dict(self) -> dict[str, Any]:
        state = {"supernet": self.supernet.state_dict(), "w_optimizer": self.w_optimizer.state_dict(),
                 "scheduler": self.scheduler.state_dict(), "generator": self.generator.get_state(),
                 "selected": None if self.selected is None else arch_to_json(self.selected),
                 # which weights have a gradient tensor: under unused_ops="decay" SGD keeps moving those
                 "has_grad": [p.grad is not None for p in self.supernet.weight_parameters()]}
        if self.a_optimizer is not None:
            state["a_optimizer"] = self.a_optimizer.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.supernet.load_state_dict(state["supernet"])
        self.w_optimizer.load_state_dict(state["w_optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.generator.set_state(state["generator"])
        self.selected = None if state["selected"] is None else arch_from_json(state["selected"])
        if "has_grad" not in state:
            raise CheckpointError("this checkpoint predates the record of which supernet weights have a gradient, "
                                  "so the run cannot continue exactly; start it again in a new run directory")
        for param, has_grad in zip(self.supernet.weight_parameters(), state["has_grad"]):
            param.grad = torch.zeros_like(param) if has_grad else None
        if self.a_optimizer is not None:
            self.a_optimizer.load_state_dict(state["a_optimizer"])


def prefixed(prefix: str, values: dict[str, float]) -> dict[str, float]:
    return {f"{prefix}{key}": value for key, value in values.items()}


def arch_to_json(arch: Arch | Genotype) -> str:
    return arch.to_json() if isinstance(arch, Genotype) else str(arch)


def arch_from_json(text: str) -> Arch | Genotype:
    return Arch.from_str(text) if text.startswith("|") else Genotype.from_json(text)


def benchmark_numbers(benchmark: Any, arch: Arch) -> dict[str, float]:
    """The 200-epoch benchmark accuracy of ``arch`` on each dataset the benchmark holds: the
    validation accuracy (x-valid; cifar10-valid's for cifar10) and the paper's test accuracy
    (``final_accuracy``: ori-test on cifar10, x-test otherwise), each the mean over seeds."""
    from ...benchmarks.nb201.common import SIMULATE_DATASETS, BenchmarkError

    numbers: dict[str, float] = {}
    for dataset in SIMULATE_DATASETS:
        try:
            numbers[f"bench_{dataset}_valid"] = benchmark.metric(arch, dataset, "valid", hp="200")
            numbers[f"bench_{dataset}_test"] = benchmark.final_accuracy(arch, dataset)
        except BenchmarkError:
            numbers.pop(f"bench_{dataset}_valid", None)
    return numbers
