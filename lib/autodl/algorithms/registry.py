"""The algorithm registry and its constructor, :func:`create_algorithm`."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ..config import SearchConfig
from ..errors import ConfigError
from ..registry import Registry


@dataclass(frozen=True)
class AlgorithmSpec:
    """A registered search: its task class, the :class:`SearchConfig` values its name fixes and the
    base name of its shipped recipes (``configs/search/<space>/<recipe>[-NASNet-CIFAR].json``; None: none
    shipped, the caller passes one)."""

    task: type
    fixed: dict[str, Any] = field(default_factory=dict)
    recipe: str | None = None
    only_spaces: tuple[str, ...] | None = None

    @property
    def spaces(self) -> tuple[str, ...]:
        """The spaces this name runs on: the task's, or fewer where the name says so."""
        return self.only_spaces or self.task.spaces


ALGORITHMS: Registry[AlgorithmSpec] = Registry("algorithm", modules=("autodl.algorithms.oneshot",))
"""The weight-sharing searches by name; their module (which imports torch) is imported on the first look-up."""


def register_algorithm(name: str, recipe: str | None = None, spaces: tuple[str, ...] | None = None, **fixed: Any):
    """Class decorator registering a search task under ``name``; ``fixed`` SearchConfig values
    (e.g. ``order=2``) are imposed whenever the algorithm is built under that name; ``recipe`` names
    its shipped recipe files and ``spaces`` restricts the task's spaces (see :class:`AlgorithmSpec`)."""

    def add(task: type) -> type:
        ALGORITHMS.register(name, AlgorithmSpec(task, fixed, recipe, spaces))
        return task

    return add


def algorithm_config(name: str, search: SearchConfig) -> SearchConfig:
    """``search`` with the values fixed by algorithm ``name``; refuses a space the algorithm does not offer."""
    spec = ALGORITHMS.get(name)
    if search.space not in spec.spaces:
        raise ConfigError(f"algorithm {name!r} is not offered on the {search.space!r} space; "
                          f"it runs on: {', '.join(spec.spaces)}")
    return dataclasses.replace(search, **spec.fixed)


def create_algorithm(name: str, supernet: Any, loaders: Any, optim: Any, search: SearchConfig, device: Any,
                     **options: Any):
    """Build the search task registered as ``name`` (see :class:`~autodl.algorithms.oneshot.base.SearchTask`)."""
    spec = ALGORITHMS.get(name)
    task = spec.task(supernet, loaders, optim, algorithm_config(name, search), device, **options)
    task.name = name
    return task
