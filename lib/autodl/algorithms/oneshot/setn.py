"""SETN (Dong & Yang, ICCV 2019): one-shot search with a self-evaluated template network (spec 2.4).

Each step: a weight step with a uniformly random cell (no gradient clipping), then an architecture
step through the softmax-weighted supernet ("joint").  Selection (before training, after every
epoch and once more at the end, its time added to the search cost): the ``select_num`` cells of
highest log-probability under ``softmax(alpha)`` are each scored on one valid batch and the best is
kept.  The top-K is exact and needs no enumeration (:func:`top_k_structures`), so it also runs on
the DARTS space, where the original never finished SETN.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch.nn.functional as F

from ...config import SearchConfig, setting
from ..registry import register_algorithm
from .base import SearchTask, prefixed


@dataclass(frozen=True)
class SETNSettings(SearchConfig):
    select_num: int = setting(100, "SETN: cells of highest probability scored per selection", count=True)


def top_k_structures(log_probs: Sequence[np.ndarray], k: int) -> list[tuple[list[list[int]], float]]:
    """The ``k`` discrete choices (one op per row of every table) of highest total log-probability.

    ``log_probs`` holds one (rows x ops) table per architecture tensor (tables may differ in their
    number of ops); a choice's score is the sum of its chosen entries.  Best-first search over per-row
    rank vectors (each row's ops sorted by score), so the cost grows with ``k`` times the number of
    rows, not with the space size.
    Returns ``[(indices per table, score), ...]`` in decreasing score (ties: lower op ranks first).
    """
    tables = [np.asarray(t, dtype=np.float64) for t in log_probs]
    rows = [row for table in tables for row in table]
    order = [np.argsort(-row, kind="stable") for row in rows]
    ranked = [row[ix] for row, ix in zip(rows, order)]
    start = (0,) * len(rows)
    heap = [(-float(np.sum([r[0] for r in ranked])), start)]
    seen = {start}
    found = []
    while heap and len(found) < k:
        negative, ranks = heapq.heappop(heap)
        choice = [int(ix[rank]) for ix, rank in zip(order, ranks)]
        split, offset = [], 0
        for table in tables:
            split.append(choice[offset:offset + len(table)])
            offset += len(table)
        found.append((split, -negative))
        for row, rank in enumerate(ranks):
            if rank + 1 < len(ranked[row]):
                successor = ranks[:row] + (rank + 1,) + ranks[row + 1:]
                if successor not in seen:
                    seen.add(successor)
                    score = -negative - ranked[row][rank] + ranked[row][rank + 1]
                    heapq.heappush(heap, (-score, successor))
    return found


@register_algorithm("setn", recipe="SETN")
class SETN(SearchTask):
    """Self-evaluated template network."""

    Settings = SETNSettings

    clip_weights = False

    def search_step(self, inputs, targets, arch_inputs, arch_targets) -> dict[str, Any]:
        sums = self.weight_step(inputs, targets, indices=self.sample_uniform())
        return {**sums, **self.arch_step(arch_inputs, arch_targets, self.softmax_weights())}

    def select_template(self) -> None:
        """Keep the best of the top ``select_num`` cells, each scored on one valid batch."""
        log_probs = [F.log_softmax(alpha.detach(), dim=-1).double().cpu().numpy() for alpha in self.arch_parameters]
        candidates = [indices for indices, _ in top_k_structures(log_probs, self.config.select_num)]
        best, _ = self.best_of(candidates)
        self.selected_indices = best
        self.selected = self.arch_of(best)

    def start_epoch(self, epoch: int, total_epochs: int) -> None:
        super().start_epoch(epoch, total_epochs)
        if epoch == 0 and self.selected is None:  # the initial template, as the original logs it
            self.select_template()

    def select(self, epoch: int) -> dict[str, Any]:
        self.select_template()
        return prefixed("valid_", self.evaluate(self.loaders.valid, indices=self.selected_indices))

    def final_arch(self):
        self.select_template()
        return self.selected
