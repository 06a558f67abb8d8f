"""Regularized (aging) evolution, Real et al. 2019, with the NAS-Bench-201 settings (spec 2.7)."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from ....config import setting
from ..base import Optimizer, Options, Proposal, register_optimizer
from ..space import SearchSpace
from ..warmstart import WarmStart, require_warm_start


@dataclass(frozen=True)
class REAOptions(Options):
    population: int = setting(10, "population size", count=True)
    sample_size: int = setting(3, "tournament size (members drawn, with replacement, to pick a parent)",
                               count=True)
    warm_start: int = setting(0, "zero-cost warm start: rank this many random cells by --proxy and start the "
                                 "population from the best (0: off)")

    def __post_init__(self) -> None:
        super().__post_init__()
        require_warm_start(self.warm_start)


@register_optimizer("rea")
class RegularizedEvolution(Optimizer):
    """``population`` random candidates (with ``warm_start``: the zero-cost proxy's best first), then: draw
    ``sample_size`` members with replacement, mutate the best of them once, add the child and remove the oldest
    member."""

    Options = REAOptions

    def __init__(self, space: SearchSpace, seed: int, **options: Any) -> None:
        super().__init__(space, seed, **options)
        self.population_size, self.sample_size = self.options.population, self.options.sample_size
        self.population: deque[tuple[Any, float]] = deque()
        self.asked = 0
        self.warm_start = WarmStart(space, self.rng, self.options.warm_start) if self.options.warm_start else None

    def ask(self) -> Proposal:
        self.asked += 1
        if self.asked <= self.population_size or not self.population:
            start = None if self.warm_start is None else self.warm_start.pop()  # the proxy's best cells first
            return Proposal(self.space.sample(self.rng) if start is None else start)
        members, draw = self.population, self.rng.random
        size = len(members)
        parent = members[int(draw() * size)]
        for _ in range(self.sample_size - 1):  # the first best of the tournament, as max() picks it
            member = members[int(draw() * size)]
            if member[1] > parent[1]:
                parent = member
        return Proposal(self.space.mutate(parent[0], self.rng))

    def tell(self, proposal: Proposal, score: float) -> None:
        self.population.append((proposal.candidate, score))
        if len(self.population) > self.population_size:
            self.population.popleft()

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "asked": self.asked,
                "population": [[self.space.to_json(c), s] for c, s in self.population],
                "warm_start": None if self.warm_start is None else self.warm_start.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.asked = state["asked"]
        self.population = deque((self.space.from_json(c), s) for c, s in state["population"])
        if self.warm_start is not None:
            self.warm_start.load_state_dict(state["warm_start"])
