"""Name -> object registries: ops, models, datasets, algorithms and benchmark back-ends register here."""
from __future__ import annotations

import importlib
import os
import pkgutil
from typing import Generic, Iterator, TypeVar

from .errors import RegistryError

T = TypeVar("T")
PLUGINS_VARIABLE = "AUTODL_PLUGINS"
_plugins_loaded = False


def import_submodules(package: str) -> None:
    """Import every module of ``package`` (so that a new file in it registers itself with no list to edit)."""
    for info in pkgutil.iter_modules(importlib.import_module(package).__path__):
        importlib.import_module(f"{package}.{info.name}")


def load_plugins() -> None:
    """Import, once, the modules named in ``$AUTODL_PLUGINS`` (comma-separated, importable from
    ``sys.path``): a researcher's own algorithms, models or datasets, registered as the built-in ones are."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for name in filter(None, (part.strip() for part in os.environ.get(PLUGINS_VARIABLE, "").split(","))):
        try:
            importlib.import_module(name)
        except ImportError as error:
            raise RegistryError(f"${PLUGINS_VARIABLE} names the module {name!r}, which does not import ({error}); "
                                f"put its folder on PYTHONPATH or remove it from ${PLUGINS_VARIABLE}") from None


class Registry(Generic[T]):
    """A mapping from unique names to objects, with errors that list the valid names.

    ``modules``: the modules whose import registers the entries, imported on the first look-up (so that
    importing the registry itself stays light, e.g. without torch); registering does not import them.
    The first look-up of any registry also imports the plugins of ``$AUTODL_PLUGINS``."""

    def __init__(self, kind: str, modules: tuple[str, ...] = ()) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}
        self._modules = modules

    def _load(self) -> None:
        modules, self._modules = self._modules, ()
        for module in modules:
            importlib.import_module(module)
        load_plugins()

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
