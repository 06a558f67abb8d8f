"""Search spaces of the multi-trial optimisers: the NAS-Bench-201 cell space and hyper-parameter spaces.

A space describes its candidates as a fixed list of dimensions (:attr:`SearchSpace.cardinalities`):
a categorical dimension with ``n`` choices, or a numeric one (cardinality 0) living in the unit
interval.  Every optimiser works on that description only: ``sample`` and ``mutate`` for random
search and evolution, ``policy_sizes``/``from_choices`` for REINFORCE's categorical policy, and
``encode``/``decode`` (a vector in ``[0, 1]^d``) for BOHB's kernel density models.  ``key`` is a
stable string and ``to_json``/``from_json`` the form written to ``trials.jsonl``.
"""
from __future__ import annotations

import json
import math
import os
import random
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ...config import read_json
from ...errors import ConfigError
from ...spaces.nb201 import EDGES, NUM_ARCHS, OP_NAMES, Arch, all_archs, enumeration_position

REINFORCE_BINS = 10
"""How many levels a numeric dimension gets in a categorical policy (REINFORCE)."""


class SearchSpace(ABC):
    """What a multi-trial optimiser may know about the candidates it proposes."""

    name: str = "space"
    cardinalities: tuple[int, ...] = ()
    """Per dimension: its number of choices, or 0 for a numeric dimension (a value in [0, 1])."""

    def sample(self, rng: random.Random) -> Any:
        """A uniformly random candidate."""
        return self.decode_units([rng.random() for _ in self.cardinalities])

    def mutate(self, candidate: Any, rng: random.Random) -> Any:
        """``candidate`` with one uniformly chosen dimension changed (a categorical one to a different choice,
        a numeric one by a Gaussian step of 0.2 in the unit interval)."""
        units = list(self.encode(candidate))
        dim = rng.randrange(len(units))
        count = self.cardinalities[dim]
        if count:
            old = min(int(units[dim] * count), count - 1)
            new = rng.randrange(count - 1)
            units[dim] = ((new if new < old else new + 1) + 0.5) / count
        else:
            units[dim] = min(1.0, max(0.0, units[dim] + rng.gauss(0.0, 0.2)))
        return self.decode_units(units)

    @abstractmethod
    def encode(self, candidate: Any) -> np.ndarray:
        """The candidate as a vector in ``[0, 1]^d``; choice ``i`` of ``n`` is the centre ``(i + 0.5) / n``."""

    @abstractmethod
    def decode_units(self, units: Sequence[float]) -> Any:
        """Inverse of :meth:`encode` (a categorical unit ``u`` is choice ``floor(u * n)``)."""

    def decode(self, vector: Sequence[float]) -> Any:
        return self.decode_units([min(1.0, max(0.0, float(u))) for u in vector])

    def from_choices(self, choices: Sequence[int]) -> Any:
        """The candidate with one choice per dimension (numeric dimensions in :data:`REINFORCE_BINS` levels)."""
        return self.decode_units([(c + 0.5) / (n or REINFORCE_BINS) for c, n in zip(choices, self.cardinalities)])

    def policy_sizes(self) -> tuple[int, ...]:
        """The number of choices of each dimension in a categorical policy."""
        return tuple(n or REINFORCE_BINS for n in self.cardinalities)

    def key(self, candidate: Any) -> str:
        """A stable string identifying the candidate (equal candidates, equal keys)."""
        return json.dumps(self.to_json(candidate), sort_keys=True)

    @abstractmethod
    def to_json(self, candidate: Any) -> Any:
        """The JSON form written to ``trials.jsonl`` and the result."""

    @abstractmethod
    def from_json(self, value: Any) -> Any:
        """Inverse of :meth:`to_json`; raises a one-sentence error on a value outside the space."""

    def describe(self) -> dict[str, Any]:
        """A JSON description of the space (logged in the run's config)."""
        return {"name": self.name}


class NB201Space(SearchSpace):
    """The 15,625 NAS-Bench-201 cells: six categorical dimensions (the edges) of five ops each.

    ``mutate`` is the original's: a node chosen uniformly, one of its incoming edges uniformly, and a
    different op uniformly (so edge ``1<-0`` changes with probability 1/3, each edge of node 3 with 1/9).
    Candidates are :class:`~autodl.spaces.nb201.Arch` values; their JSON form is the benchmark string.
    """

    name = "nas-bench-201"
    cardinalities = (len(OP_NAMES),) * len(EDGES)
    _NODE_EDGES = tuple(tuple(k for k, (to, _) in enumerate(EDGES) if to == node) for node in (1, 2, 3))
    _EDGE_WEIGHTS = tuple(len(OP_NAMES) ** (len(EDGES) - 1 - k) for k in range(len(EDGES)))

    def __init__(self) -> None:
        self._archs = all_archs()  # every cell built once per process: sampling and mutation only pick one

    def sample(self, rng: random.Random) -> Arch:
        return self._archs[int(rng.random() * NUM_ARCHS)]  # uniform over the space = each edge's op uniform

    def mutate(self, candidate: Arch, rng: random.Random) -> Arch:
        draw = rng.random  # int(draw() * n) is uniform on 0..n-1 and several times faster than randrange
        ops = candidate.op_indices
        node_edges = self._NODE_EDGES[int(draw() * len(self._NODE_EDGES))]
        edge = node_edges[int(draw() * len(node_edges))]
        new = int(draw() * (len(OP_NAMES) - 1))
        new = new if new < ops[edge] else new + 1
        # the cached Arch of the mutated cell (its enumeration position changes by one digit in base 5)
        return self._archs[enumeration_position(candidate) + (new - ops[edge]) * self._EDGE_WEIGHTS[edge]]

    def encode(self, candidate: Arch) -> np.ndarray:
        return (np.asarray(candidate.op_indices, dtype=np.float64) + 0.5) / len(OP_NAMES)

    def decode_units(self, units: Sequence[float]) -> Arch:
        return Arch(tuple(min(int(u * len(OP_NAMES)), len(OP_NAMES) - 1) for u in units))

    def from_choices(self, choices: Sequence[int]) -> Arch:
        return Arch(tuple(int(c) for c in choices))

    def key(self, candidate: Arch) -> str:
        return str(candidate)

    def to_json(self, candidate: Arch) -> str:
        return str(candidate)

    def from_json(self, value: Any) -> Arch:
        return Arch.from_str(value)


# ------------------------------------------------------------------------------------ hyper-parameters
PARAM_TYPES = ("categorical", "int", "float")


@dataclass(frozen=True)
class Param:
    """One hyper-parameter: ``categorical`` over ``choices``, or ``int``/``float`` in ``[low, high]``
    (``log``: uniform in the logarithm)."""

    name: str
    type: str
    choices: tuple[Any, ...] = ()
    low: float = 0.0
    high: float = 0.0
    log: bool = False

    @property
    def cardinality(self) -> int:
        return len(self.choices) if self.type == "categorical" else 0

    def to_unit(self, value: Any) -> float:
        if self.type == "categorical":
            return (self.choices.index(value) + 0.5) / len(self.choices)
        low, high, value = ((math.log(self.low), math.log(self.high), math.log(value)) if self.log
                            else (self.low, self.high, value))
        return 0.5 if high == low else (value - low) / (high - low)

    def from_unit(self, unit: float) -> Any:
        if self.type == "categorical":
            return self.choices[min(int(unit * len(self.choices)), len(self.choices) - 1)]
        if self.log:
            value = math.exp(math.log(self.low) + unit * (math.log(self.high) - math.log(self.low)))
        else:
            value = self.low + unit * (self.high - self.low)
        if self.type == "int":
            return int(min(self.high, max(self.low, round(value))))
        return float(min(self.high, max(self.low, value)))

    def check(self, value: Any, where: str) -> Any:
        """``value`` if it belongs to this parameter, else a :class:`ConfigError`."""
        if self.type == "categorical":
            if value not in self.choices:
                raise ConfigError(f"{where}: {self.name}={value!r} is not one of {list(self.choices)}")
            return value
        numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not numeric or (self.type == "int" and value != int(value)) or not self.low <= value <= self.high:
            raise ConfigError(f"{where}: {self.name}={value!r} is not {'an integer' if self.type == 'int' else 'a number'} "
                              f"in [{self.low}, {self.high}]")
        return int(value) if self.type == "int" else float(value)


def _param(name: str, spec: Any, where: str) -> Param:
    if not isinstance(spec, dict):
        raise ConfigError(f"{where}: parameter {name!r} is {spec!r}; expected an object like "
                          '{"type": "float", "low": 0.001, "high": 0.1, "log": true}')
    kind = spec.get("type")
    if kind not in PARAM_TYPES:
        raise ConfigError(f"{where}: parameter {name!r} has type {kind!r}; expected one of {', '.join(PARAM_TYPES)}")
    allowed = {"type", "choices"} if kind == "categorical" else {"type", "low", "high", "log"}
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise ConfigError(f"{where}: parameter {name!r} has unknown key {unknown[0]!r}; a {kind} parameter "
                          f"takes {', '.join(sorted(allowed))}")
    if kind == "categorical":
        choices = spec.get("choices")
        if not isinstance(choices, list) or len(choices) < 1 or len({json.dumps(c) for c in choices}) != len(choices):
            raise ConfigError(f"{where}: categorical parameter {name!r} needs 'choices', a non-empty list of distinct values")
        return Param(name, kind, choices=tuple(choices))
    low, high, log = spec.get("low"), spec.get("high"), spec.get("log", False)
    for label, bound in (("low", low), ("high", high)):
        if isinstance(bound, bool) or not isinstance(bound, (int, float)) or not math.isfinite(bound):
            raise ConfigError(f"{where}: parameter {name!r} needs a finite number '{label}', got {bound!r}")
    if kind == "int" and (low != int(low) or high != int(high)):
        raise ConfigError(f"{where}: int parameter {name!r} needs integer bounds, got [{low}, {high}]")
    if not isinstance(log, bool):
        raise ConfigError(f"{where}: parameter {name!r} has log={log!r}; expected true or false")
    if low > high:
        raise ConfigError(f"{where}: parameter {name!r} has low={low} > high={high}; swap them")
    if log and low <= 0:
        raise ConfigError(f"{where}: log-scale parameter {name!r} needs low > 0, got {low}")
    return Param(name, kind, low=low, high=high, log=log)


class HyperSpace(SearchSpace):
    """A hyper-parameter space; candidates are dicts ``{name: value}`` in the order of the parameters."""

    def __init__(self, params: Sequence[Param], name: str = "hyper-parameters") -> None:
        if not params:
            raise ConfigError("a hyper-parameter space needs at least one parameter")
        self.params, self.name = tuple(params), name
        self.cardinalities = tuple(param.cardinality for param in self.params)

    @classmethod
    def from_dict(cls, data: Any, where: str = "hyper-parameter space") -> "HyperSpace":
        """``{"name": {"type": ..., ...}, ...}`` (see :class:`Param`)."""
        if not isinstance(data, dict) or not data:
            raise ConfigError(f"{where}: expected a non-empty JSON object mapping parameter names to "
                              '{"type": "categorical"|"int"|"float", ...}')
        return cls([_param(name, spec, where) for name, spec in data.items()], name=Path(where).stem)

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> "HyperSpace":
        return cls.from_dict(read_json(path), str(path))

    def encode(self, candidate: dict[str, Any]) -> np.ndarray:
        return np.array([param.to_unit(candidate[param.name]) for param in self.params])

    def decode_units(self, units: Sequence[float]) -> dict[str, Any]:
        return {param.name: param.from_unit(unit) for param, unit in zip(self.params, units)}

    def to_json(self, candidate: dict[str, Any]) -> dict[str, Any]:
        return dict(candidate)

    def from_json(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict) or set(value) != {param.name for param in self.params}:
            raise ConfigError(f"candidate {value!r} does not have exactly the parameters "
                              f"{', '.join(param.name for param in self.params)}")
        return {param.name: param.check(value[param.name], "candidate") for param in self.params}

    def describe(self) -> dict[str, Any]:
        def spec(param: Param) -> dict[str, Any]:
            if param.type == "categorical":
                return {"type": param.type, "choices": list(param.choices)}
            return {"type": param.type, "low": param.low, "high": param.high, "log": param.log}

        return {"name": self.name, "params": {param.name: spec(param) for param in self.params}}

