"""The ask/tell interface of the multi-trial optimisers and their registry.

An optimiser proposes candidates (``ask``) and learns from their scores (``tell``); it never sees the
evaluator, the budget, the trial log or the workers, which belong to the driver
(:func:`~autodl.algorithms.multitrial.driver.run_trials`).  Scores are "higher is better" (an
accuracy; minimise a loss by telling its negative).  ``state_dict`` is JSON-able, and an optimiser
rebuilt with the same space, seed and options that loads it continues exactly as the original would.
"""
from __future__ import annotations

import random
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from ...errors import ConfigError
from ...registry import Registry
from .space import SearchSpace


@dataclass(frozen=True)
class Proposal:
    """A candidate to evaluate and, for multi-fidelity optimisers, the budget (e.g. epochs) to give it."""

    candidate: Any
    budget: float | None = None
    memo: Any = field(default=None, compare=False, repr=False)
    """What the optimiser needs back in ``tell`` (e.g. REINFORCE's sampled choices); not part of the trial."""


class Optimizer(ABC):
    """Base class: holds the space, the seed and a ``random.Random`` drawn from it."""

    def __init__(self, space: SearchSpace, seed: int) -> None:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ConfigError(f"an optimiser's seed must be an integer >= 0, got {seed!r}")
        self.space, self.seed = space, seed
        self.rng = random.Random(seed)

    @abstractmethod
    def ask(self) -> Proposal | None:
        """The next proposal, or None while the optimiser waits for the results of its pending proposals."""

    @abstractmethod
    def tell(self, proposal: Proposal, score: float) -> None:
        """The score of an evaluated proposal (in the order the proposals were asked)."""

    def state_dict(self) -> dict[str, Any]:
        return {"rng": _rng_state(self.rng)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rng.setstate(_rng_tuple(state["rng"]))


def _rng_state(rng: random.Random) -> list:
    version, internal, gauss = rng.getstate()
    return [version, list(internal), gauss]


def _rng_tuple(state: list) -> tuple:
    return state[0], tuple(state[1]), state[2]


OPTIMIZERS: Registry[type] = Registry("multi-trial algorithm", modules=("autodl.algorithms.multitrial.optimizers",))
"""Multi-trial search algorithms by name; every module of :mod:`.optimizers` registers on the first look-up."""


def register_optimizer(name: str):
    """Class decorator registering an :class:`Optimizer` subclass under ``name``."""
    return OPTIMIZERS.register(name)


def create_optimizer(name: str, space: SearchSpace, seed: int, **options: Any) -> Optimizer:
    """Build the optimiser registered as ``name``; ``options`` are its keyword arguments (e.g. ``population``)."""
    return OPTIMIZERS.get(name)(space, seed, **options)
