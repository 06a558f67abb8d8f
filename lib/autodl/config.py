"""JSON config files <-> typed dataclasses, and the original typed ``.config`` format.

Every config kind is a frozen dataclass.  :func:`load_config` checks a JSON file (or dict)
against it: unknown keys, wrong types and missing required values raise one
:class:`~autodl.errors.ConfigError` naming the file, the key and what was expected.
"""
from __future__ import annotations

import dataclasses
import json
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, TypeVar, Union

from .errors import ConfigError, require_one_of

C = TypeVar("C")

SCHEDULERS = ("cos", "multistep", "exponential", "linear", "constant")
OPTIMIZERS = ("SGD", "RMSprop")
CRITERIA = ("Softmax", "SmoothSoftmax")
LR_STEPS = ("epoch", "iteration")
"""When the schedule moves after warm-up (see :mod:`autodl.engine.optim`): once per epoch, as the original, or
every iteration."""
SEARCH_SPACES = ("nas-bench-201", "darts")
UNUSED_OP_UPDATES = ("decay", "skip")
"""What the weight optimiser does to an op that did not run in a step (reference inventory 8.23):
``decay``, the original on the PyTorch 1.x of its published results (once an op has run, its gradient is
zeroed, not dropped, so it gets weight decay and momentum every later step); ``skip``, the original on
PyTorch >= 2 (an op that did not run is left out of that step)."""
SEARCH_OP_SETS = ("default", "nasp-12ops")
"""Op lists of the search supernets: the space's own, or NASP's 12 ops on the DARTS space."""


@dataclass(frozen=True)
class OptimConfig:
    """An optimiser + learning-rate schedule + loss recipe (``configs/opts/*.json``).

    Key names follow the original recipes so their files convert one to one.
    """

    epochs: int
    LR: float
    optim: str = "SGD"
    scheduler: str = "cos"
    lr_per: str = "epoch"
    warmup: int = 0
    decay: float = 0.0
    momentum: float = 0.0
    nesterov: bool = False
    eta_min: float = 0.0
    T_max: int | None = None
    milestones: list[int] = field(default_factory=list)
    gammas: list[float] = field(default_factory=list)
    gamma: float = 1.0
    criterion: str = "Softmax"
    label_smooth: float = 0.0
    auxiliary: float = -1.0
    batch_size: int | None = None
    test_batch_size: int | None = None

    def __post_init__(self) -> None:
        require_one_of("optim", self.optim, OPTIMIZERS)
        require_one_of("scheduler", self.scheduler, SCHEDULERS)
        require_one_of("lr_per", self.lr_per, LR_STEPS)
        require_one_of("criterion", self.criterion, CRITERIA)
        if self.epochs < 1 or self.warmup < 0:
            raise ConfigError(f"epochs must be >= 1 and warmup >= 0, got epochs={self.epochs}, warmup={self.warmup}")
        if self.LR <= 0:
            raise ConfigError(f"LR must be > 0, got {self.LR}")
        if len(self.milestones) != len(self.gammas):
            raise ConfigError(
                f"milestones {self.milestones} and gammas {self.gammas} must have the same length"
            )
        if self.T_max is not None and self.T_max < 1:
            raise ConfigError(f"T_max must be >= 1 or null, got {self.T_max}")
        if not 0.0 <= self.label_smooth < 1.0:
            raise ConfigError(f"label_smooth must be in [0, 1), got {self.label_smooth}")

    @property
    def total_epochs(self) -> int:
        """Warm-up epochs come before ``epochs`` schedule epochs, as in the original."""
        return self.epochs + self.warmup


def setting(default: Any, help: str, choices: tuple[str, ...] | None = None, count: bool = False) -> Any:
    """A settings field with its ``--help`` text (and choices), from which the entry points build its flag;
    ``count``: a number that must be >= 1 (checked by :class:`SearchConfig` with the choices)."""
    metadata = {"help": help, "choices": choices, "count": count}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class SearchConfig:
    """The settings every weight-sharing search shares: the space, the supernet, the weight step and the
    architecture optimiser (spec 2.0 defaults).  Each algorithm's own settings are a subclass in its own
    module (its ``Settings``), so a run's config holds these plus that algorithm's only."""

    space: str = setting("nas-bench-201", "search space", SEARCH_SPACES)
    channel: int = setting(16, "supernet channels C", count=True)
    num_cells: int = setting(5, "search cells per stage N", count=True)
    track_running_stats: bool = setting(False, "BN running statistics in the supernet")
    arch_LR: float = setting(3e-4, "architecture learning rate")
    arch_betas: list[float] = setting([0.5, 0.999], "Adam betas of the architecture optimiser")
    arch_decay: float = setting(1e-3, "weight decay of the architecture optimiser")
    arch_eps: float = setting(1e-8, "Adam epsilon of the architecture optimiser")
    gradient_clip: float = setting(5.0, "weight-gradient norm clip (<= 0: off)")
    unused_ops: str = setting("decay", "what SGD does to an op that ran before but not in this step: decay (weight "
                              "decay and momentum, the original on PyTorch 1.x) or skip (the original on PyTorch >= 2)",
                              UNUSED_OP_UPDATES)
    op_set: str = setting("default", "op lists of the supernet", SEARCH_OP_SETS)

    def __post_init__(self) -> None:
        for settings_field in dataclasses.fields(self):  # the subclasses' choices (and, below, counts) too
            if settings_field.metadata.get("choices"):
                require_one_of(settings_field.name, getattr(self, settings_field.name), settings_field.metadata["choices"])
        if self.op_set != "default" and self.space != "darts":
            raise ConfigError(f"op_set={self.op_set!r} is an op list of the DARTS space; use --space darts "
                              f"or op_set 'default' on the {self.space!r} space")
        if len(self.arch_betas) != 2:
            raise ConfigError(f"arch_betas must hold two numbers, got {self.arch_betas}")
        if self.arch_LR <= 0:
            raise ConfigError(f"arch_LR must be > 0, got {self.arch_LR}")
        require_positive(self, *(f.name for f in dataclasses.fields(self) if f.metadata.get("count")))


def require_positive(obj: Any, *keys: str) -> None:
    """One ConfigError naming every count among ``keys`` of ``obj`` that is below 1."""
    bad = [f"{key}={getattr(obj, key)}" for key in keys if getattr(obj, key) < 1]
    if bad:
        raise ConfigError(f"{', '.join(bad)}: {'these counts' if len(bad) > 1 else 'this count'} must be >= 1")



def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    if origin is list:
        return f"list of {_type_name(typing.get_args(tp)[0])}"
    return "null" if tp is type(None) else getattr(tp, "__name__", str(tp))


def _coerce(value: Any, tp: Any) -> Any:
    """Return ``value`` as type ``tp`` or raise TypeError; ints are accepted where floats are."""
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        for arg in typing.get_args(tp):
            try:
                return _coerce(value, arg)
            except TypeError:
                continue
        raise TypeError
    if origin is list:
        if not isinstance(value, (list, tuple)):
            raise TypeError
        (item,) = typing.get_args(tp)
        return [_coerce(v, item) for v in value]
    if tp is type(None):
        if value is None:
            return None
        raise TypeError
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise TypeError
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise TypeError
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise TypeError
    if tp is str:
        if isinstance(value, str):
            return value
        raise TypeError
    if tp is Any:
        return value
    raise TypeError


def config_from_dict(cls: type[C], data: Mapping[str, Any], source: str = "<dict>") -> C:
    """Build the dataclass ``cls`` from ``data``, checking keys and types; ``source`` names the origin in errors."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: expected a JSON object for {cls.__name__}, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(
            f"{source}: unknown key {unknown[0]!r} for {cls.__name__}; expected keys: {', '.join(fields)}"
        )
    kwargs = {}
    for name, f in fields.items():
        if name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ConfigError(f"{source}: missing required key {name!r} ({_type_name(hints[name])})")
            continue
        try:
            kwargs[name] = _coerce(data[name], hints[name])
        except TypeError:
            raise ConfigError(
                f"{source}: key {name!r} expected {_type_name(hints[name])}, got {data[name]!r}"
            ) from None
    try:
        return cls(**kwargs)
    except ConfigError as error:
        raise ConfigError(f"{source}: {error}") from None


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON file, turning a missing file or a syntax error into a one-line ConfigError."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as error:
        raise ConfigError(f"cannot read config file {path}: {error.strerror}; check the path") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(
            f"{path}: invalid JSON at line {error.lineno} column {error.colno} ({error.msg})"
        ) from None


def read_json_object(path: str | os.PathLike, what: str = "a JSON object") -> dict[str, Any]:
    """Read a JSON file whose top level must be an object (``what`` describes it in the error)."""
    data = read_json(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected {what}, got {type(data).__name__}")
    return data


def load_config(cls: type[C], source: str | os.PathLike | Mapping[str, Any], **overrides: Any) -> C:
    """Load ``cls`` from a JSON path or a dict; keyword ``overrides`` replace keys (None values are ignored)."""
    if isinstance(source, Mapping):
        data, origin = dict(source), "<dict>"
    else:
        data, origin = read_json_object(source), str(source)
    data.update({k: v for k, v in overrides.items() if v is not None})
    return config_from_dict(cls, data, origin)


def config_to_dict(config: Any) -> dict[str, Any]:
    """The plain-JSON form of a config dataclass."""
    return dataclasses.asdict(config)


# ---------------------------------------------------------------- the original ``.config`` format

_LEGACY_TYPES = ("str", "int", "bool", "float", "none")


def _legacy_scalar(kind: str, value: Any, where: str) -> Any:
    try:
        if kind == "str":
            return str(value)
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
        if kind == "bool":
            return bool(int(value))
        if str(value).lower() == "none":  # kind == "none"
            return None
        raise ValueError
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: value {value!r} cannot be read as {kind}") from None


def read_legacy_config(path: str | os.PathLike, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Read an original typed ``.config`` file (``{"key": [type, value]}``) into a plain dict.

    ``extra`` keys override the file's, as in the original loader.
    """
    raw = read_json_object(path, "a JSON object of [type, value] pairs")
    result: dict[str, Any] = {}
    for key, entry in raw.items():
        where = f"{path}: key {key!r}"
        if not (isinstance(entry, list) and len(entry) == 2 and entry[0] in _LEGACY_TYPES):
            raise ConfigError(
                f"{where}: expected a [type, value] pair with type one of {', '.join(_LEGACY_TYPES)}, got {entry!r}"
            )
        kind, value = entry
        if isinstance(value, list):
            result[key] = [_legacy_scalar(kind, v, where) for v in value]
        else:
            result[key] = _legacy_scalar(kind, value, where)
    result.update(extra or {})
    return result


def load_any_config(cls: type[C], path: str | os.PathLike, **overrides: Any) -> C:
    """Load ``cls`` from a JSON file, or from an original ``.config`` file (by its extension)."""
    if str(path).endswith(".config"):
        data = read_legacy_config(path)
        data.update({k: v for k, v in overrides.items() if v is not None})
        return config_from_dict(cls, data, str(path))
    return load_config(cls, path, **overrides)


def write_json(data: Any, path: str | os.PathLike) -> None:
    """Write ``data`` as indented JSON atomically (temporary file + rename)."""
    from .utils import atomic_write_text

    atomic_write_text(Path(path), json.dumps(data, indent=2, sort_keys=False) + "\n")
