"""The ask/tell interface of the multi-trial optimisers and their registry.

An optimiser proposes candidates (``ask``) and learns from their scores (``tell``); it never sees the
evaluator, the budget, the trial log or the workers, which belong to the driver
(:func:`~autodl.algorithms.multitrial.driver.run_trials`).  Scores are "higher is better" (an
accuracy; minimise a loss by telling its negative).  ``state_dict`` is JSON-able, and an optimiser
rebuilt with the same space, seed and options that loads it continues exactly as the original would.

An optimiser declares its options in its own file, as a frozen dataclass (its ``Options``, a subclass of
:class:`Options`) whose fields are made with :func:`autodl.config.setting` (type, default, ``--help`` text;
``count=True``: an integer >= 1) and whose ``__post_init__`` refuses bad values in one line; the entry points
(``exps/search-multitrial.py``, ``exps/hpo.py``) build their flags from it.  A ``multi_fidelity`` optimiser asks
for a budget with each proposal and has the options ``min_budget`` and ``max_budget``; HPO sets them in epochs.
"""
from __future__ import annotations

import dataclasses
import random
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from collections.abc import Hashable
from functools import lru_cache
from typing import Any, ClassVar, Mapping

from ...config import config_from_dict, require_positive
from ...errors import ConfigError, RegistryError
from ...registry import Registry
from .space import SearchSpace

BUDGET_OPTIONS = ("min_budget", "max_budget")
"""The options of a multi-fidelity optimiser that bound the budgets it asks for."""


@dataclass(frozen=True)
class Proposal:
    """A candidate to evaluate and, for multi-fidelity optimisers, the budget (e.g. epochs) to give it."""

    candidate: Any
    budget: float | None = None
    memo: Any = field(default=None, compare=False, repr=False)
    """What the optimiser needs back in ``tell`` (e.g. REINFORCE's sampled choices); not part of the trial."""


@dataclass(frozen=True)
class Options:
    """Base of an optimiser's options (none): subclasses add :func:`~autodl.config.setting` fields and check
    their values in ``__post_init__`` (calling this one, which checks the ``count`` fields)."""

    def __post_init__(self) -> None:
        require_positive(self, *(f.name for f in dataclasses.fields(self) if f.metadata.get("count")))


class Optimizer(ABC):
    """Base class: holds the space, the seed, a ``random.Random`` drawn from it and :attr:`options` (an
    instance of the class's :attr:`Options`, from the keyword arguments)."""

    Options: ClassVar[type[Options]] = Options
    multi_fidelity: ClassVar[bool] = False
    """True: every proposal carries a budget, between the options ``min_budget`` and ``max_budget``."""

    def __init__(self, space: SearchSpace, seed: int, **options: Any) -> None:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ConfigError(f"an optimiser's seed must be an integer >= 0, got {seed!r}")
        self.space, self.seed = space, seed
        self.rng = random.Random(seed)
        self.options = make_options(type(self), options)

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
    """Class decorator registering an :class:`Optimizer` subclass under ``name`` (its :attr:`~Optimizer.Options`
    must be an :class:`Options` dataclass; a multi-fidelity one's must hold :data:`BUDGET_OPTIONS`)."""

    def add(cls: type[Optimizer]) -> type[Optimizer]:
        if not (isinstance(cls.Options, type) and issubclass(cls.Options, Options)
                and dataclasses.is_dataclass(cls.Options)):
            raise RegistryError(f"multi-trial algorithm {name!r}: its Options must be a dataclass subclassing "
                                "autodl.algorithms.multitrial.Options")
        names = {f.name for f in dataclasses.fields(cls.Options)}
        if cls.multi_fidelity and not names >= set(BUDGET_OPTIONS):
            raise RegistryError(f"multi-trial algorithm {name!r} is multi-fidelity, so its Options need the fields "
                                f"{' and '.join(BUDGET_OPTIONS)}")
        return OPTIMIZERS.register(name)(cls)

    return add


def make_options(cls: type[Optimizer], options: Mapping[str, Any]) -> Options:
    """``cls.Options`` from ``options`` (name -> value); an unknown name, a wrong type or a bad value is one
    ConfigError naming the algorithm.  Built once per class and values (500 runs of one search share them)."""
    if all(isinstance(value, Hashable) for value in options.values()):
        return _options(cls, tuple(sorted(options.items())))
    return _check_options(cls, options)


@lru_cache(maxsize=64)
def _options(cls: type[Optimizer], items: tuple[tuple[str, Any], ...]) -> Options:
    return _check_options(cls, dict(items))


def _check_options(cls: type[Optimizer], options: Mapping[str, Any]) -> Options:
    names = [f.name for f in dataclasses.fields(cls.Options)]
    unknown = sorted(set(options) - set(names))
    if unknown:
        raise ConfigError(f"option {unknown[0]!r} does not apply to {optimizer_name(cls)}; it takes "
                          f"{', '.join(names) or 'no options'}")
    return config_from_dict(cls.Options, options, source=f"{optimizer_name(cls)} options")


def options_by_algorithm() -> dict[str, type[Options]]:
    """Every registered optimiser's :attr:`~Optimizer.Options`, by name (the entry points' flags)."""
    return {name: OPTIMIZERS.get(name).Options for name in OPTIMIZERS.names()}


def optimizer_name(cls: type[Optimizer]) -> str:
    """The name ``cls`` is registered under (its class name if it is not registered)."""
    return next((name for name in OPTIMIZERS.names() if OPTIMIZERS.get(name) is cls), cls.__name__)


def create_optimizer(name: str, space: SearchSpace, seed: int, **options: Any) -> Optimizer:
    """Build the optimiser registered as ``name``; ``options`` are the fields of its ``Options`` (e.g. ``population``)."""
    return OPTIMIZERS.get(name)(space, seed, **options)
