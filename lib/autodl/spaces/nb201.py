"""The NAS-Bench-201 cell space: 4 nodes, 6 edges, 5 ops per edge, 15,625 architectures.

An :class:`Arch` is an immutable value holding the op on each edge, in the fixed edge order
``1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2``.  It converts to and from the benchmark string
(``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``), op names or indices, a 4 x 4 matrix and a 6 x 5 one-hot
array, and maps to the benchmark index (enumeration order shuffled by ``random.Random(88)``).
"""
from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Sequence, Union

import numpy as np

from ..errors import AutoDLError

OP_NAMES: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
"""The five candidate ops; a position in this tuple is the op index used by every encoding."""

EDGES: tuple[tuple[int, int], ...] = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
"""``(to_node, from_node)`` of the six edges, in the row order of every 6 x 5 encoding."""

NUM_NODES = 4
NUM_ARCHS = len(OP_NAMES) ** len(EDGES)
SHUFFLE_SEED = 88
CANONICAL_MODES = ("zero", "skip", "exact")

_OP_INDEX = {name: index for index, name in enumerate(OP_NAMES)}
_VALID_INDICES = frozenset(range(len(OP_NAMES)))
_EDGE_TO = np.array([to for to, _ in EDGES])
_EDGE_FROM = np.array([source for _, source in EDGES])
_UPPER = np.triu_indices(NUM_NODES)
_ZERO, _SKIP = _OP_INDEX["none"], _OP_INDEX["skip_connect"]
_EXAMPLE = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"

RngLike = Union[random.Random, np.random.Generator]


class SpaceError(AutoDLError):
    """An architecture, encoding or index does not belong to the search space."""


def _op_index(op: str | int) -> int:
    if isinstance(op, (int, np.integer)) and not isinstance(op, bool):
        if 0 <= op < len(OP_NAMES):
            return int(op)
        raise SpaceError(f"op index {op} is out of range; expected 0..{len(OP_NAMES) - 1} "
                         f"(positions in {', '.join(OP_NAMES)})")
    if isinstance(op, str) and op in _OP_INDEX:
        return _OP_INDEX[op]
    raise SpaceError(f"unknown op {op!r}; expected one of {', '.join(OP_NAMES)}")


@dataclass(frozen=True)
class Arch:
    """One NB201 cell: ``op_indices[k]`` is the index (into :data:`OP_NAMES`) of the op on ``EDGES[k]``."""

    op_indices: tuple[int, ...]

    def __post_init__(self) -> None:
        ops = tuple(self.op_indices)
        if len(ops) != len(EDGES):
            raise SpaceError(f"an NB201 cell has {len(EDGES)} edges but {len(ops)} ops were given; "
                             f"pass one op per edge in the order 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2")
        if not all(type(op) is int and op in _VALID_INDICES for op in ops):
            ops = tuple(_op_index(op) for op in ops)
        object.__setattr__(self, "op_indices", ops)

    # ---- construction -------------------------------------------------------------------------
    @classmethod
    def from_ops(cls, ops: Sequence[str | int]) -> "Arch":
        """Build from six op names or op indices in edge order."""
        if isinstance(ops, str):
            raise SpaceError(f"from_ops got the string {ops!r}; pass a list of six op names or indices "
                             f"(use Arch.from_str for an architecture string)")
        return cls(tuple(ops))

    @classmethod
    def from_str(cls, text: str, partial: bool = False) -> "Arch":
        """Parse ``|op~j|+|op~j|op~j|+|op~j|op~j|op~j|``; with ``partial`` missing edges become ``none``."""
        if not isinstance(text, str):
            raise SpaceError(f"expected an architecture string like {_EXAMPLE!r}, got {type(text).__name__}")
        nodes = text.strip().split("+")
        if len(nodes) != NUM_NODES - 1:
            raise SpaceError(f"{text!r} has {len(nodes)} nodes separated by '+'; expected {NUM_NODES - 1}, "
                             f"for example {_EXAMPLE!r}")
        ops: dict[tuple[int, int], int] = {}
        for node, node_text in enumerate(nodes, start=1):
            if len(node_text) < 2 or not (node_text.startswith("|") and node_text.endswith("|")):
                raise SpaceError(f"node {node} of {text!r} is {node_text!r}; expected '|op~input|...|' "
                                 f"starting and ending with '|'")
            for item in node_text[1:-1].split("|"):
                op, sep, source = item.partition("~")
                if not sep or not source.isdigit():
                    raise SpaceError(f"edge {item!r} of node {node} in {text!r} is malformed; "
                                     f"expected 'op~input' such as 'nor_conv_3x3~0'")
                source_node = int(source)
                if source_node >= node:
                    raise SpaceError(f"edge {item!r} of node {node} in {text!r} reads node {source_node}; "
                                     f"node {node} may only read nodes 0..{node - 1}")
                if (node, source_node) in ops:
                    raise SpaceError(f"node {node} of {text!r} reads node {source_node} twice; "
                                     f"give each input once")
                ops[(node, source_node)] = _op_index(op)
        missing = [f"{to}<-{source}" for to, source in EDGES if (to, source) not in ops]
        if missing and not partial:
            raise SpaceError(f"{text!r} lacks the edges {', '.join(missing)}; give all 6 edges "
                             f"or parse with partial=True to fill them with 'none'")
        return cls(tuple(ops.get(edge, _ZERO) for edge in EDGES))

    @classmethod
    def from_matrix(cls, matrix: np.ndarray | Sequence[Sequence[int]]) -> "Arch":
        """Inverse of :meth:`to_matrix`: ``matrix[i, j]`` (j < i) is the op index of edge ``i<-j``."""
        array = np.asarray(matrix)
        if array.shape != (NUM_NODES, NUM_NODES):
            raise SpaceError(f"the op matrix has shape {array.shape}; expected ({NUM_NODES}, {NUM_NODES})")
        if array[_UPPER].any():
            raise SpaceError("the op matrix has non-zero entries on or above the diagonal; "
                             "only entries [i, j] with j < i (edge i<-j) may be set")
        return cls(tuple(array[_EDGE_TO, _EDGE_FROM].tolist()))

    @classmethod
    def from_onehot(cls, onehot: np.ndarray | Sequence[Sequence[float]]) -> "Arch":
        """Inverse of :meth:`to_onehot`; every row must hold a single 1 and zeros."""
        array = np.asarray(onehot)
        if array.shape != (len(EDGES), len(OP_NAMES)):
            raise SpaceError(f"the one-hot array has shape {array.shape}; expected ({len(EDGES)}, {len(OP_NAMES)})")
        if not (np.count_nonzero(array) == len(EDGES) and (array.max(axis=1) == 1).all()):
            raise SpaceError("the one-hot array has a row that is not exactly one 1 among zeros; "
                             "use Arch.from_weights for real-valued architecture weights")
        return cls(tuple(array.argmax(axis=1).tolist()))

    @classmethod
    def from_weights(cls, weights: np.ndarray | Sequence[Sequence[float]]) -> "Arch":
        """The arg-max op of each edge of a 6 x 5 weight array (``none`` included, as the NB201 searches do)."""
        array = np.asarray(weights, dtype=np.float64)
        if array.shape != (len(EDGES), len(OP_NAMES)):
            raise SpaceError(f"the weight array has shape {array.shape}; expected ({len(EDGES)}, {len(OP_NAMES)})")
        return cls(tuple(int(i) for i in array.argmax(axis=1)))

    # ---- encodings ----------------------------------------------------------------------------
    def to_ops(self) -> tuple[str, ...]:
        """The six op names in edge order."""
        return tuple(OP_NAMES[i] for i in self.op_indices)

    @property
    def nodes(self) -> tuple[tuple[tuple[str, int], ...], ...]:
        """Per computed node (1..3), its ``(op, input_node)`` pairs in input order."""
        grouped: list[list[tuple[str, int]]] = [[] for _ in range(NUM_NODES - 1)]
        for (to, source), op in zip(EDGES, self.op_indices):
            grouped[to - 1].append((OP_NAMES[op], source))
        return tuple(tuple(node) for node in grouped)

    def to_matrix(self) -> np.ndarray:
        """4 x 4 int matrix, ``[i, j]`` = op index of edge ``i<-j`` for j < i, zero elsewhere."""
        matrix = np.zeros((NUM_NODES, NUM_NODES), dtype=np.int64)
        matrix[_EDGE_TO, _EDGE_FROM] = self.op_indices
        return matrix

    def to_onehot(self) -> np.ndarray:
        """6 x 5 float32 array with a 1 at (edge, op index)."""
        onehot = np.zeros((len(EDGES), len(OP_NAMES)), dtype=np.float32)
        onehot[np.arange(len(EDGES)), self.op_indices] = 1.0
        return onehot

    def __str__(self) -> str:
        return "+".join("|" + "|".join(f"{op}~{source}" for op, source in node) + "|" for node in self.nodes)

    def __repr__(self) -> str:
        return f"Arch({str(self)!r})"

    def __len__(self) -> int:
        """Number of computed nodes, as the original structure reports it."""
        return NUM_NODES - 1

    # ---- properties ---------------------------------------------------------------------------
    def is_valid(self) -> bool:
        """Whether the output node is reachable from the input through edges that are not ``none``."""
        reachable = {0}
        for (to, source), op in zip(EDGES, self.op_indices):
            if op != _ZERO and source in reachable:
                reachable.add(to)
        return NUM_NODES - 1 in reachable

    def canonical_str(self, mode: str = "zero") -> str:
        """A string equal for architectures the original counts as isomorphic.

        ``skip`` treats ``skip_connect`` as the identity and sorts the terms of each node's sum
        (12,751 classes); ``zero`` additionally maps a ``none`` edge, or any edge reading a node that
        is itself a bare zero, to zero (6,466 classes, the original's count); ``exact`` only sorts
        (15,625 classes).
        """
        if mode not in CANONICAL_MODES:
            raise SpaceError(f"unknown canonical mode {mode!r}; expected one of {', '.join(CANONICAL_MODES)}")
        values = {0: "0"}
        for to in range(1, NUM_NODES):
            terms = []
            for (node, source), op in zip(EDGES, self.op_indices):
                if node != to:
                    continue
                value = values[source]
                if mode == "zero" and (op == _ZERO or value == "#"):
                    terms.append("#")
                elif mode != "exact" and op == _SKIP:
                    terms.append(value)
                else:
                    terms.append(f"({value})@{OP_NAMES[op]}")
            values[to] = "+".join(sorted(terms))
        return values[NUM_NODES - 1]


ArchLike = Union[Arch, str]

REFERENCE_ARCHS: dict[str, Arch] = {
    "resnet": Arch.from_str("|nor_conv_3x3~0|+|nor_conv_3x3~1|+|skip_connect~0|skip_connect~2|", partial=True),
    "all_c3x3": Arch((_OP_INDEX["nor_conv_3x3"],) * len(EDGES)),
    "all_c1x1": Arch((_OP_INDEX["nor_conv_1x1"],) * len(EDGES)),
    "all_idnt": Arch((_SKIP,) * len(EDGES)),
}
"""The built-in reference cells of the original (``all_full`` is not a member of the space)."""


def as_arch(arch: ArchLike) -> Arch:
    """An :class:`Arch` from an Arch or an architecture string."""
    if isinstance(arch, Arch):
        return arch
    return Arch.from_str(arch)


@lru_cache(maxsize=1)
def all_archs() -> tuple[Arch, ...]:
    """All 15,625 architectures in the original enumeration order (the last edge varies fastest)."""
    archs = []
    for ops in itertools.product(range(len(OP_NAMES)), repeat=len(EDGES)):  # valid by construction: not checked
        arch = object.__new__(Arch)
        object.__setattr__(arch, "op_indices", ops)
        archs.append(arch)
    return tuple(archs)


@lru_cache(maxsize=1)
def _benchmark_order() -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(enumeration position of each benchmark index, benchmark index of each enumeration position)."""
    order = list(range(NUM_ARCHS))
    random.Random(SHUFFLE_SEED).shuffle(order)
    inverse = [0] * NUM_ARCHS
    for index, position in enumerate(order):
        inverse[position] = index
    return tuple(order), tuple(inverse)


@lru_cache(maxsize=1)
def benchmark_archs() -> tuple[Arch, ...]:
    """All architectures in benchmark-index order (the enumeration shuffled with seed 88)."""
    enumerated = all_archs()
    return tuple(enumerated[position] for position in _benchmark_order()[0])


@lru_cache(maxsize=1)
def _positions() -> dict[tuple[int, ...], int]:
    return {arch.op_indices: position for position, arch in enumerate(all_archs())}


def enumeration_position(arch: Arch) -> int:
    """The position of ``arch`` in :func:`all_archs` (the first edge's op is the most significant base-5 digit);
    one dictionary look-up (the hot path of benchmark searches)."""
    return _positions()[arch.op_indices]


def arch_to_index(arch: ArchLike) -> int:
    """The NAS-Bench-201 index of an architecture (an :class:`Arch` or its string)."""
    return _benchmark_order()[1][enumeration_position(as_arch(arch))]


def index_to_arch(index: int) -> Arch:
    """The architecture with NAS-Bench-201 index ``index`` (0..15624)."""
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < NUM_ARCHS:
        raise SpaceError(f"architecture index {index!r} is invalid; expected an integer in 0..{NUM_ARCHS - 1}")
    return benchmark_archs()[int(index)]


def _randint(rng: RngLike, high: int) -> int:
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(high))
    if isinstance(rng, random.Random):
        return rng.randrange(high)
    raise SpaceError(f"expected a random.Random or numpy.random.Generator, got {type(rng).__name__}; "
                     f"pass an explicit generator such as random.Random(0)")


def sample(rng: RngLike) -> Arch:
    """A uniformly random architecture (each edge's op drawn independently)."""
    return Arch(tuple(_randint(rng, len(OP_NAMES)) for _ in EDGES))


def mutate(arch: ArchLike, rng: RngLike) -> Arch:
    """Replace the op of one uniformly chosen edge by a uniformly chosen different op."""
    ops = list(as_arch(arch).op_indices)
    edge = _randint(rng, len(EDGES))
    new_op = _randint(rng, len(OP_NAMES) - 1)
    ops[edge] = new_op if new_op < ops[edge] else new_op + 1
    return Arch(tuple(ops))


def count_unique(archs: Iterable[Arch], mode: str = "zero") -> int:
    """Number of distinct canonical strings among ``archs``."""
    return len({arch.canonical_str(mode) for arch in archs})


def __getattr__(name: str):
    if name == "ARCHS":
        return benchmark_archs()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
