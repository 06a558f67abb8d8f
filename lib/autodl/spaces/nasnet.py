"""The DARTS/NASNet cell space: the immutable :class:`Genotype`, genotype derivation and published genotypes.

A cell has two input states (0 and 1, the outputs of the two previous cells) and a number of
intermediate nodes; node ``i`` is state ``i + 2`` and sums the outputs of its ``(op, input)``
pairs.  The cell output concatenates the states listed in ``*_concat``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from .nb201 import SpaceError

# Ops that may appear in a NASNet-space genotype (the published genotypes use all but the nor_conv_* ones
# and the 5x5 and 7x7 max pools, which NASP's 12-op space adds).
GENOTYPE_OPS: tuple[str, ...] = (
    "skip_connect", "avg_pool_3x3", "max_pool_3x3", "max_pool_5x5", "max_pool_7x7",
    "sep_conv_3x3", "sep_conv_5x5", "sep_conv_7x7", "dil_conv_3x3", "dil_conv_5x5",
    "conv_7x1_1x7", "conv_3x1_1x3", "nor_conv_1x1", "nor_conv_3x3", "nor_conv_7x7",
)
# The 8-op DARTS search list, in the order the search supernets index their weights.
DARTS_SEARCH_OPS: tuple[str, ...] = (
    "none", "skip_connect", "sep_conv_3x3", "sep_conv_5x5",
    "dil_conv_3x3", "dil_conv_5x5", "avg_pool_3x3", "max_pool_3x3",
)
# NASP's 12-op space (Yao et al., AAAI 2020) as the authors' released code defines it (genotypes.py of
# xujinfan/NASP-codes, in its order): skip and convolutions in normal cells, skip and pools in reduction
# cells, no `none`.  Their "conv 1x1" / "conv 3x3" are ReLU-conv-BN, our nor_conv_*.
NASP_NORMAL_OPS: tuple[str, ...] = (
    "skip_connect", "conv_3x1_1x3", "dil_conv_3x3", "nor_conv_1x1",
    "nor_conv_3x3", "sep_conv_3x3", "sep_conv_5x5", "sep_conv_7x7",
)
NASP_REDUCE_OPS: tuple[str, ...] = ("skip_connect", "avg_pool_3x3", "max_pool_3x3", "max_pool_5x5", "max_pool_7x7")
SEARCH_OP_SETS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "default": (DARTS_SEARCH_OPS, DARTS_SEARCH_OPS),
    "nasp-12ops": (NASP_NORMAL_OPS, NASP_REDUCE_OPS),
}
"""The (normal cell, reduction cell) op lists of the DARTS-space search supernet, by ``SearchConfig.op_set``."""
# Names the original search code used for the same ops.
OP_ALIASES: dict[str, str] = {
    "dua_sepc_3x3": "sep_conv_3x3", "dua_sepc_5x5": "sep_conv_5x5",
    "dil_sepc_3x3": "dil_conv_3x3", "dil_sepc_5x5": "dil_conv_5x5",
}
DERIVATION_RULES = ("darts", "original")

Node = tuple[tuple[str, int], ...]
Cell = tuple[Node, ...]


def canonical_op(name: Any, where: str = "genotype") -> str:
    """The genotype op name for ``name`` (search-code aliases such as ``dua_sepc_3x3`` are mapped)."""
    if not isinstance(name, str):
        raise SpaceError(f"{where}: op {name!r} is not a string; expected one of {', '.join(GENOTYPE_OPS)}")
    name = OP_ALIASES.get(name, name)
    if name not in GENOTYPE_OPS:
        raise SpaceError(f"{where}: unknown op {name!r}; expected one of {', '.join(GENOTYPE_OPS)}")
    return name


def _as_cell(value: Any, kind: str) -> Cell:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise SpaceError(f"{kind}: expected a list of nodes, each a list of [op, input] pairs, got {value!r}")
    nodes = []
    for i, node in enumerate(value):
        where = f"{kind} node {i} (state {i + 2})"
        if isinstance(node, (str, bytes)) or not isinstance(node, Iterable):
            raise SpaceError(f"{where}: expected a list of [op, input] pairs, got {node!r}")
        pairs = []
        for pair in node:
            if isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) not in (2, 3):
                raise SpaceError(f"{where}: expected an [op, input] pair (or [op, input, weight]), got {pair!r}")
            op, index = canonical_op(pair[0], where), pair[1]
            if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
                raise SpaceError(f"{where}: input index {index!r} of {op} is not an integer; expected 0..{i + 1}")
            if not 0 <= index <= i + 1:
                raise SpaceError(f"{where}: input index {index} of {op} is out of range; expected 0..{i + 1} "
                                 "(the two cell inputs and the earlier nodes)")
            pairs.append((op, int(index)))
        if not pairs:
            raise SpaceError(f"{where}: has no [op, input] pair; every node needs at least one")
        nodes.append(tuple(pairs))
    if not nodes:
        raise SpaceError(f"{kind}: has no node; a cell needs at least one intermediate node")
    return tuple(nodes)


def _as_concat(value: Any, steps: int, kind: str) -> tuple[int, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise SpaceError(f"{kind}: expected a list of state indices, got {value!r}")
    states = tuple(value)
    valid = range(2, 2 + steps)
    if not states or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s not in valid for s in states):
        raise SpaceError(f"{kind}: {list(states)} is not a non-empty list of node states; "
                         f"expected integers in {valid.start}..{valid.stop - 1}")
    if len(set(states)) != len(states):
        raise SpaceError(f"{kind}: {list(states)} repeats a state; list each concatenated state once")
    return tuple(int(s) for s in states)


@dataclass(frozen=True)
class Genotype:
    """A NASNet-space architecture: the normal and the reduction cell, each with its concatenated states.

    Immutable, hashable and validated at construction; lists are accepted and stored as tuples.
    """

    normal: Cell
    normal_concat: tuple[int, ...]
    reduce: Cell
    reduce_concat: tuple[int, ...]

    def __post_init__(self) -> None:
        normal = _as_cell(self.normal, "normal")
        reduce = _as_cell(self.reduce, "reduce")
        object.__setattr__(self, "normal", normal)
        object.__setattr__(self, "reduce", reduce)
        object.__setattr__(self, "normal_concat", _as_concat(self.normal_concat, len(normal), "normal_concat"))
        object.__setattr__(self, "reduce_concat", _as_concat(self.reduce_concat, len(reduce), "reduce_concat"))

    def cell(self, reduction: bool) -> tuple[Cell, tuple[int, ...]]:
        """``(nodes, concat)`` of the reduction cell if ``reduction`` else of the normal cell."""
        return (self.reduce, self.reduce_concat) if reduction else (self.normal, self.normal_concat)

    def to_dict(self) -> dict[str, list]:
        """Plain JSON-able form: ``{"normal": [[[op, input], ...], ...], "normal_concat": [...], ...}``."""
        def cell(nodes: Cell) -> list:
            return [[[op, index] for op, index in node] for node in nodes]

        return {"normal": cell(self.normal), "normal_concat": list(self.normal_concat),
                "reduce": cell(self.reduce), "reduce_concat": list(self.reduce_concat)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Genotype":
        """Build from :meth:`to_dict` output, or from a search-checkpoint dict whose pairs carry a weight."""
        if not isinstance(data, Mapping):
            raise SpaceError(f"a genotype must be a JSON object, got {type(data).__name__}; "
                             "expected keys normal, normal_concat, reduce, reduce_concat")
        keys = ("normal", "normal_concat", "reduce", "reduce_concat")
        missing = [key for key in keys if key not in data]
        if missing:
            raise SpaceError(f"genotype dict lacks key {missing[0]!r}; expected keys {', '.join(keys)}")
        return cls(*(data[key] for key in keys))

    def to_json(self) -> str:
        """The JSON text of :meth:`to_dict`."""
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> "Genotype":
        """Parse the JSON text written by :meth:`to_json`."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise SpaceError(f"genotype JSON is invalid at line {error.lineno} column {error.colno} "
                             f"({error.msg}); expected the output of Genotype.to_json") from None
        return cls.from_dict(data)


def num_edges(steps: int) -> int:
    """Number of mixed edges of a search cell with ``steps`` nodes (14 for 4)."""
    return sum(2 + i for i in range(steps))


def edge_keys(steps: int = 4) -> list[str]:
    """The ``"i<-j"`` names of the search-cell edges in weight-row order (node-major, then input)."""
    return [f"{i}<-{j}" for i in range(steps) for j in range(i + 2)]


def _as_weights(weights: Any, op_names: Sequence[str], steps: int, kind: str) -> np.ndarray:
    if hasattr(weights, "detach"):
        weights = weights.detach().cpu().numpy()
    array = np.asarray(weights, dtype=np.float64)
    expected = (num_edges(steps), len(op_names))
    if array.shape != expected:
        raise SpaceError(f"{kind} weights have shape {tuple(array.shape)}; expected {expected} "
                         f"(one row per edge of a {steps}-node cell, one column per op)")
    if not np.isfinite(array).all():
        raise SpaceError(f"{kind} weights contain NaN or infinity; expected finite per-op weights")
    return array


def _derive_cell(weights: np.ndarray, op_names: Sequence[str], steps: int, rule: str) -> Cell:
    usable = [k for k, name in enumerate(op_names) if name != "none"]
    nodes, row = [], 0
    for i in range(steps):
        rows = weights[row:row + i + 2]
        row += i + 2
        if rule == "darts":
            best_op = {j: max(usable, key=lambda k: (rows[j, k], -k)) for j in range(i + 2)}
            inputs = sorted(range(i + 2), key=lambda j: -rows[j, best_op[j]])[:2]
            nodes.append(tuple((op_names[best_op[j]], j) for j in inputs))
        else:
            candidates = [(op_names[k], j, rows[j, k]) for j in range(i + 2) for k in usable]
            chosen = sorted(candidates, key=lambda c: -c[2])[:2]
            nodes.append(tuple((op, j) for op, j, _ in chosen))
    return tuple(nodes)


def derive_genotype(normal_weights: Any, reduce_weights: Any, op_names: Sequence[str] = DARTS_SEARCH_OPS,
                    steps: int = 4, rule: str = "darts", reduce_op_names: Sequence[str] | None = None) -> Genotype:
    """The discrete genotype of a DARTS-space search from its per-edge op weights (e.g. softmax of α).

    Weights are arrays or tensors of shape ``(num_edges(steps), len(op_names))`` whose rows follow
    :func:`edge_keys`; ``reduce_op_names`` names the reduction cell's columns where its op list
    differs from the normal cell's (``None``: ``op_names``).  ``rule="darts"`` keeps, per node, the
    two strongest edges from distinct inputs (an edge's strength is its best non-``none`` weight)
    with that best op; ``rule="original"`` keeps the two strongest (op, input) pairs over all edges,
    which may use one input twice.  Concatenated states are every node, ``2 .. steps + 1``.
    """
    if rule not in DERIVATION_RULES:
        raise SpaceError(f"unknown derivation rule {rule!r}; expected one of {', '.join(DERIVATION_RULES)}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise SpaceError(f"steps={steps!r} is invalid; expected a positive number of nodes per cell")
    normal_names = _search_op_names(op_names, "op_names")
    reduce_names = normal_names if reduce_op_names is None else _search_op_names(reduce_op_names, "reduce_op_names")
    normal = _as_weights(normal_weights, normal_names, steps, "normal")
    reduce = _as_weights(reduce_weights, reduce_names, steps, "reduce")
    concat = tuple(range(2, 2 + steps))
    return Genotype(_derive_cell(normal, normal_names, steps, rule), concat,
                    _derive_cell(reduce, reduce_names, steps, rule), concat)


def _search_op_names(op_names: Sequence[str], where: str) -> list[str]:
    names = [name if name == "none" else canonical_op(name, where) for name in op_names]
    if all(name == "none" for name in names):
        raise SpaceError(f"{where} holds no op besides 'none'; expected the search space's op list")
    return names


_SEP3, _SEP5, _SEP7 = "sep_conv_3x3", "sep_conv_5x5", "sep_conv_7x7"
_DIL3, _DIL5 = "dil_conv_3x3", "dil_conv_5x5"
_AVG, _MAX, _SKIP, _C313 = "avg_pool_3x3", "max_pool_3x3", "skip_connect", "conv_3x1_1x3"

_PNASNET_CELL = [[(_SEP5, 0), (_MAX, 0)], [(_SEP7, 1), (_MAX, 1)], [(_SEP5, 1), (_SEP3, 1)],
                 [(_SEP3, 4), (_MAX, 1)], [(_SEP3, 0), (_SKIP, 1)]]

# Published cells (NASNet-A, PNASNet-5, DARTS first/second order, SETN, GDAS), as listed in spec 1.7.
GENOTYPES: dict[str, Genotype] = {
    "NASNet": Genotype(
        [[(_SEP5, 1), (_SEP3, 0)], [(_SEP5, 0), (_SEP3, 0)], [(_AVG, 1), (_SKIP, 0)],
         [(_AVG, 0), (_AVG, 0)], [(_SEP3, 1), (_SKIP, 1)]], [2, 3, 4, 5, 6],
        [[(_SEP5, 1), (_SEP7, 0)], [(_MAX, 1), (_SEP7, 0)], [(_AVG, 1), (_SEP5, 0)],
         [(_SKIP, 3), (_AVG, 2)], [(_SEP3, 2), (_MAX, 1)]], [4, 5, 6]),
    "PNASNet": Genotype(_PNASNET_CELL, [2, 3, 4, 5, 6], _PNASNET_CELL, [2, 3, 4, 5, 6]),
    "DARTS_V1": Genotype(
        [[(_SEP3, 1), (_SEP3, 0)], [(_SKIP, 0), (_SEP3, 1)], [(_SKIP, 0), (_SEP3, 1)],
         [(_SEP3, 0), (_SKIP, 2)]], [2, 3, 4, 5],
        [[(_MAX, 0), (_MAX, 1)], [(_SKIP, 2), (_MAX, 0)], [(_MAX, 0), (_SKIP, 2)],
         [(_SKIP, 2), (_AVG, 0)]], [2, 3, 4, 5]),
    "DARTS_V2": Genotype(
        [[(_SEP3, 0), (_SEP3, 1)], [(_SEP3, 0), (_SEP3, 1)], [(_SEP3, 1), (_SKIP, 0)],
         [(_SKIP, 0), (_DIL3, 2)]], [2, 3, 4, 5],
        [[(_MAX, 0), (_MAX, 1)], [(_SKIP, 2), (_MAX, 1)], [(_MAX, 0), (_SKIP, 2)],
         [(_SKIP, 2), (_MAX, 1)]], [2, 3, 4, 5]),
    "SETN": Genotype(
        [[(_SKIP, 0), (_SEP5, 1)], [(_SEP5, 0), (_SEP3, 1)], [(_SEP5, 1), (_SEP5, 3)],
         [(_MAX, 1), (_C313, 4)]], [2, 3, 4, 5],
        [[(_SEP3, 0), (_SEP5, 1)], [(_AVG, 0), (_SEP5, 1)], [(_AVG, 0), (_SEP5, 1)],
         [(_AVG, 0), (_SKIP, 1)]], [2, 3, 4, 5]),
    "GDAS_V1": Genotype(
        [[(_SKIP, 0), (_SKIP, 1)], [(_SKIP, 0), (_SEP5, 2)], [(_SEP3, 3), (_SKIP, 0)],
         [(_SEP5, 4), (_SEP3, 3)]], [2, 3, 4, 5],
        [[(_SEP5, 0), (_SEP3, 1)], [(_SEP5, 2), (_SEP5, 1)], [(_DIL5, 2), (_SEP3, 1)],
         [(_SEP5, 0), (_SEP5, 1)]], [2, 3, 4, 5]),
}
GENOTYPES["DARTS"] = GENOTYPES["DARTS_V2"]


def get_genotype(name: str) -> Genotype:
    """A published genotype by name: NASNet, PNASNet, DARTS_V1, DARTS_V2 (alias DARTS), SETN, GDAS_V1."""
    try:
        return GENOTYPES[name]
    except (KeyError, TypeError):
        raise SpaceError(f"unknown genotype name {name!r}; expected one of {', '.join(GENOTYPES)} "
                         "or a genotype dict / artifact path") from None
