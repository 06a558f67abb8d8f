"""Name -> object registries: ops, models, datasets, algorithms and benchmark back-ends register here."""
from __future__ import annotations

import importlib
from typing import Generic, Iterator, TypeVar

from .errors import RegistryError

T = TypeVar("T")


class Registry(Generic[T]):
    """A mapping from unique names to objects, with errors that list the valid names.

    ``modules``: the modules whose import registers the entries, imported on the first look-up (so that
    importing the registry itself stays light, e.g. without torch); registering does not import them."""

    def __init__(self, kind: str, modules: tuple[str, ...] = ()) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}
        self._modules = modules

    def _load(self) -> None:
        modules, self._modules = self._modules, ()
        for module in modules:
            importlib.import_module(module)

    def register(self, name: str, obj: T | None = None):
        """Register ``obj`` under ``name``; without ``obj`` it returns a decorator."""

        def add(item: T) -> T:
            if name in self._items:
                raise RegistryError(f"{self.kind} {name!r} is already registered; pick another name")
            self._items[name] = item
            return item

        return add(obj) if obj is not None else add

    def get(self, name: str) -> T:
        self._load()
        try:
            return self._items[name]
        except KeyError:
            raise RegistryError(
                f"unknown {self.kind} {name!r}; expected one of: {', '.join(sorted(self._items))}"
            ) from None

    def names(self) -> list[str]:
        self._load()
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        self._load()
        return len(self._items)
