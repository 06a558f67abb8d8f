"""Regularized (aging) evolution, Real et al. 2019, with the NAS-Bench-201 settings (spec 2.7)."""
from __future__ import annotations

from collections import deque
from typing import Any

from ....errors import ConfigError
from ..base import Optimizer, Proposal, register_optimizer
from ..space import SearchSpace


@register_optimizer("rea")
class RegularizedEvolution(Optimizer):
    """``population`` random candidates, then: draw ``sample_size`` members with replacement, mutate the best
    of them once, add the child and remove the oldest member."""

    def __init__(self, space: SearchSpace, seed: int, population: int = 10, sample_size: int = 3) -> None:
        super().__init__(space, seed)
        if population < 1 or sample_size < 1:
            raise ConfigError(f"REA needs population >= 1 and sample_size >= 1, got {population} and {sample_size}")
        self.population_size, self.sample_size = population, sample_size
        self.population: deque[tuple[Any, float]] = deque()
        self.asked = 0

    def ask(self) -> Proposal:
        self.asked += 1
        if self.asked <= self.population_size or not self.population:
            return Proposal(self.space.sample(self.rng))
        members, draw = self.population, self.rng.random
        size = len(members)
        parent = max((members[int(draw() * size)] for _ in range(self.sample_size)), key=_score)
        return Proposal(self.space.mutate(parent[0], self.rng))

    def tell(self, proposal: Proposal, score: float) -> None:
        self.population.append((proposal.candidate, score))
        if len(self.population) > self.population_size:
            self.population.popleft()

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "asked": self.asked,
                "population": [[self.space.to_json(c), s] for c, s in self.population]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.asked = state["asked"]
        self.population = deque((self.space.from_json(c), s) for c, s in state["population"])


def _score(member: tuple[Any, float]) -> float:
    return member[1]
