"""Local search (White, Nolen and Savani, "Local search is state of the art for NAS benchmarks", 2020; at UAI 2021
as "Exploring the loss landscape in neural architecture search"): hill climbing with random restarts.

The paper's Algorithm 1, best improvement: from a random cell, evaluate every neighbour (the cells that differ in
one edge's op: 24 on NB201), move to the best one if it beats the current cell, and stop at a local optimum; the
search restarts from a new random cell there until the budget is used.  Neighbours are evaluated in a seeded random
order (it decides which of them the budget reaches).  A cell is never evaluated twice: every score is kept, and a
neighbour scored before takes part with its score, without a new trial.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from ....config import setting
from ..base import Optimizer, Options, Proposal, register_optimizer
from ..space import SearchSpace
from ..warmstart import WarmStart, distinct_samples, require_warm_start


def neighbours(space: SearchSpace, candidate: Any) -> list[Any]:
    """Every candidate differing from ``candidate`` in one dimension's choice (NB201: one edge's op, 6 x 4 cells),
    in dimension then choice order; a numeric dimension of a hyper-parameter space counts as its
    :meth:`~autodl.algorithms.multitrial.SearchSpace.policy_sizes` levels."""
    units = list(space.encode(candidate))
    found = []
    for dim, count in enumerate(space.policy_sizes()):
        current = min(int(units[dim] * count), count - 1)
        for choice in range(count):
            if choice != current:
                changed = units.copy()
                changed[dim] = (choice + 0.5) / count
                found.append(space.decode_units(changed))
    return found


@dataclass(frozen=True)
class LocalSearchOptions(Options):
    start_cells: int = setting(1, "random cells per (re)start; the best of them starts the climb (the paper: 1; "
                                  "naszilla's and NASLib's num_init: 10)", count=True)
    warm_start: int = setting(0, "zero-cost warm start: rank this many random cells by --proxy and (re)start from "
                                 "the best (0: off)")

    def __post_init__(self) -> None:
        super().__post_init__()
        require_warm_start(self.warm_start)


@register_optimizer("local_search")
class LocalSearch(Optimizer):
    """Best-improvement hill climbing over the one-dimension neighbourhoods with random restarts at local optima.

    :attr:`current` is the cell being climbed from (with its score), None while start cells are evaluated.  A
    phase is either the ``start_cells`` start cells or the current cell's neighbourhood; it ends once all its results
    are in (``ask`` answers None while they are pending).  Then the best result of the phase becomes current if
    it beats the current cell (ties do not), else the search restarts.
    """

    Options = LocalSearchOptions

    def __init__(self, space: SearchSpace, seed: int, **options: Any) -> None:
        super().__init__(space, seed, **options)
        self.warm_start = WarmStart(space, self.rng, self.options.warm_start) if self.options.warm_start else None
        self.scores: dict[str, float] = {}
        """The memo: the score of every cell evaluated (by key)."""
        self.current: tuple[Any, float] | None = None
        self.phase_best: tuple[Any, float] | None = None
        self.queue: deque[Any] = deque()
        self.pending = 0
        self.optima: list[tuple[Any, float]] = []
        """The local optima the search restarted at, in order (with their scores)."""

    def ask(self) -> Proposal | None:
        while not self.queue:
            if self.pending or not self._next_phase():
                return None  # waiting for the phase's results, or every cell of the space is scored
        self.pending += 1
        return Proposal(self.queue.popleft())

    def tell(self, proposal: Proposal, score: float) -> None:
        self.pending -= 1
        self.scores[self.space.key(proposal.candidate)] = score
        self._consider(proposal.candidate, score)

    def _consider(self, candidate: Any, score: float) -> None:
        if self.phase_best is None or score > self.phase_best[1]:
            self.phase_best = (candidate, score)

    def _next_phase(self) -> bool:
        """End the finished phase: climb to its best result if that improves, else restart.  False: nothing is
        left to evaluate."""
        best, self.phase_best = self.phase_best, None
        if best is not None and (self.current is None or best[1] > self.current[1]):
            self.current = best
            cells = neighbours(self.space, best[0])
            self.rng.shuffle(cells)
            for cell in cells:
                score = self.scores.get(self.space.key(cell))
                if score is None:
                    self.queue.append(cell)
                else:
                    self._consider(cell, score)
            return True
        if self.current is not None:
            self.optima.append(self.current)  # a local optimum: no neighbour beats it
        self.current = None
        self.queue.extend(self._start_cells())
        return bool(self.queue)

    def _start_cells(self) -> list[Any]:
        """``start_cells`` unscored cells: the warm start's best first, then random ones."""
        cells = []
        while self.warm_start is not None and len(cells) < self.options.start_cells:
            cell = self.warm_start.pop()
            if cell is None:
                break
            if self.space.key(cell) not in self.scores:
                cells.append(cell)
        exclude = set(self.scores) | {self.space.key(cell) for cell in cells}
        return cells + distinct_samples(self.space, self.rng, self.options.start_cells - len(cells), exclude)

    def state_dict(self) -> dict[str, Any]:
        to_json = self.space.to_json
        return {**super().state_dict(), "scores": self.scores, "pending": self.pending,
                "optima": [[to_json(cell), score] for cell, score in self.optima],
                "current": None if self.current is None else [to_json(self.current[0]), self.current[1]],
                "phase_best": None if self.phase_best is None else [to_json(self.phase_best[0]), self.phase_best[1]],
                "queue": [to_json(cell) for cell in self.queue],
                "warm_start": None if self.warm_start is None else self.warm_start.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        from_json = self.space.from_json
        self.scores, self.pending = dict(state["scores"]), state["pending"]
        self.optima = [(from_json(cell), score) for cell, score in state["optima"]]
        self.current = None if state["current"] is None else (from_json(state["current"][0]), state["current"][1])
        self.phase_best = (None if state["phase_best"] is None
                           else (from_json(state["phase_best"][0]), state["phase_best"][1]))
        self.queue = deque(from_json(cell) for cell in state["queue"])
        if self.warm_start is not None:
            self.warm_start.load_state_dict(state["warm_start"])
