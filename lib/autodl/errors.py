"""User-facing errors: each carries one sentence saying what was wrong, what was expected and how to fix it."""
from __future__ import annotations

from typing import Any, Iterable


class AutoDLError(ValueError):
    """Base class of every error caused by bad input; the CLI prints it as one line and exits 2."""


class ConfigError(AutoDLError):
    """A config file or dict is malformed (unknown key, wrong type, missing value)."""


class RegistryError(AutoDLError, KeyError):
    """A name was looked up in a registry that does not hold it."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class DataError(AutoDLError):
    """A dataset or data file is missing, incomplete or corrupt."""


class CheckpointError(AutoDLError):
    """A checkpoint or run directory cannot be used."""


class OutputPathError(AutoDLError):
    """A file or directory to write cannot be created where it was asked for (a file in the way, a
    directory where a file should go, no write permission, a read-only file system)."""


class DivergenceError(AutoDLError):
    """A run's parameters became non-finite (learning rate too high for the setting)."""


def require_one_of(kind: str, value: Any, choices: Iterable[Any], error: type[AutoDLError] = ConfigError) -> None:
    """Raise ``error`` with one sentence when ``value`` is not one of ``choices``
    (``unknown <kind> <value>; expected one of <choices>``)."""
    choices = list(choices)
    if value not in choices:
        raise error(f"unknown {kind} {value!r}; expected one of {', '.join(map(repr, choices))}")
