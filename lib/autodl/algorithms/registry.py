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
    """A registered search: its task class, the settings values its name fixes, the base name of its
    shipped recipes (``configs/search/<space>/<recipe>[-NASNet-CIFAR].json``; None: none shipped, the
    caller passes one) and its title in reports (the papers' spelling, e.g. ``DARTS+(V1)``)."""

    task: type
    fixed: dict[str, Any] = field(default_factory=dict)
    recipe: str | None = None
    only_spaces: tuple[str, ...] | None = None
    title: str = ""

    @property
    def spaces(self) -> tuple[str, ...]:
        """The spaces this name runs on: those the task has a supernet for, or fewer where the name says so."""
        return self.only_spaces or tuple(self.task.supernets)

    def supernet(self, space: str) -> str:
        """The registered supernet model this algorithm searches ``space`` with."""
        return self.task.supernets[space]

    @property
    def settings(self) -> type[SearchConfig]:
        """The task's settings dataclass: :class:`SearchConfig`'s shared fields plus the algorithm's own."""
        return self.task.Settings


ALGORITHMS: Registry[AlgorithmSpec] = Registry("algorithm", modules=("autodl.algorithms.oneshot",))
"""The weight-sharing searches by name; their module (which imports torch) is imported on the first look-up."""


def register_algorithm(name: str, recipe: str | None = None, spaces: tuple[str, ...] | None = None,
                       title: str | None = None, **fixed: Any):
    """Class decorator registering a search task under ``name``; ``fixed`` SearchConfig values
    (e.g. ``order=2``) are imposed whenever the algorithm is built under that name; ``recipe`` names
    its shipped recipe files, ``spaces`` restricts the task's spaces and ``title`` is its name in
    reports (default: ``name`` upper-cased) (see :class:`AlgorithmSpec`)."""

    def add(task: type) -> type:
        ALGORITHMS.register(name, AlgorithmSpec(task, fixed, recipe, spaces, title or name.upper()))
        return task

    return add


def algorithm_config(name: str, search: SearchConfig | None = None, **settings: Any) -> SearchConfig:
    """The settings of algorithm ``name``: the values of ``search`` that its settings class has (every
    shared one; another algorithm's own are dropped), then ``settings``, then the values its name fixes.
    Refuses a key it does not have and a space it does not offer, each with one line."""
    spec = ALGORITHMS.get(name)
    names = {f.name for f in dataclasses.fields(spec.settings)}
    unknown = sorted(set(settings) - names)
    if unknown:
        own = sorted(names - {f.name for f in dataclasses.fields(SearchConfig)})
        raise ConfigError(f"{unknown[0]!r} is not a setting of {name!r}; its own settings are: "
                          f"{', '.join(own) or 'none'} (plus the shared SearchConfig ones)")
    values = {} if search is None else {f.name: getattr(search, f.name) for f in dataclasses.fields(search)
                                        if f.name in names}
    values = {**values, **settings, **spec.fixed}
    space = values.get("space", spec.settings.__dataclass_fields__["space"].default)
    if space not in spec.spaces:
        raise ConfigError(f"algorithm {name!r} is not offered on the {space!r} space; "
                          f"it runs on: {', '.join(spec.spaces)}")
    return spec.settings(**values)


def create_algorithm(name: str, supernet: Any, loaders: Any, optim: Any, search: SearchConfig, device: Any,
                     **options: Any):
    """Build the search task registered as ``name`` (see :class:`~autodl.algorithms.oneshot.base.SearchTask`)."""
    spec = ALGORITHMS.get(name)
    task = spec.task(supernet, loaders, optim, algorithm_config(name, search), device, **options)
    task.name = name
    return task


def settings_by_algorithm() -> dict[str, type[SearchConfig]]:
    """Every registered algorithm's settings class, by name (the entry points build their flags from these)."""
    return {name: ALGORITHMS.get(name).settings for name in ALGORITHMS.names()}


def always_fixed_settings() -> tuple[str, ...]:
    """The settings that every algorithm having them fixes by its name (DARTS's ``order``): no flag sets them."""
    owners = {name: {f.name for f in dataclasses.fields(cls)} for name, cls in settings_by_algorithm().items()}
    names = set().union(*owners.values())
    return tuple(sorted(n for n in names
                        if all(n in ALGORITHMS.get(algorithm).fixed for algorithm, own in owners.items() if n in own)))
