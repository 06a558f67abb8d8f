"""BANANAS (White, Neiswanger and Savani, "BANANAS: Bayesian optimization with neural architectures for neural
architecture search", AAAI 2021): Bayesian optimisation with an ensemble of neural predictors on the path encoding.

As the authors' code (naszilla, ``bananas`` with its ``standard`` predictor settings): ``num_init`` (10) random
cells first; then every round trains ``ensemble`` (5) fully connected networks (10 ReLU layers of width 20, one
output; Glorot-uniform weights, zero biases; Adam with learning rate 0.01 and betas 0.9/0.99; mean absolute error;
batches of 32; ``predictor_epochs`` (150) epochs) on the path encodings of every evaluated cell, makes
``num_candidates`` (100) new candidates by mutating the best evaluated cells (the best first, up to 5 of them, each
100 times, until there are enough distinct unseen ones: every edge changes with probability 1/4 to another op,
naszilla's NB201 mutation) and evaluates the ``per_round`` (10) with the highest independent Thompson draws: one
draw per candidate from a Gaussian with the ensemble's mean and standard deviation of its predictions.

Differences: the networks are NumPy (no TensorFlow or torch) and fit standardised scores (the score minus the
evaluated scores' mean, over their standard deviation), so any scale of score (an accuracy in %, a proxy's log
determinant) trains alike; naszilla fits the raw validation error in %.  The encoding is the full path encoding (the
paper's; naszilla's code defaults to a truncated one), with op positions in this project's op order.  A round's
networks and draws come from a NumPy generator seeded from the optimiser's own random stream, so a search restored
from its state dict retrains the same networks from its stored evaluations.  On a hyper-parameter space the
encoding is each categorical dimension one-hot and each numeric one's unit value.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

import numpy as np

from ....config import setting
from ....spaces.nb201 import EDGES, NUM_NODES, OP_NAMES, Arch
from ..base import Optimizer, Options, Proposal, register_optimizer
from ..space import NB201Space, SearchSpace
from ..warmstart import distinct_samples
from .reinforce import Adam

LAYERS, WIDTH = 10, 20
"""naszilla's meta neural network: 10 hidden ReLU layers of width 20."""
LEARNING_RATE, BETAS, EPSILON, BATCH = 0.01, (0.9, 0.99), 1e-7, 32
"""naszilla's Keras Adam (its epsilon is Keras' default) and batch size."""
PARENTS = 5
"""The best evaluated cells that candidates are mutated from (naszilla: num_arches_to_mutate 1 x patience_factor 5)."""
MUTATION_PROB = 0.25
"""naszilla's NB201 mutation: each of the 6 edges changes with probability mutation_rate / (6 - 2), rate 1."""


@lru_cache(maxsize=1)
def nb201_paths() -> tuple[tuple[int, ...], ...]:
    """Every input-to-output path of the NB201 cell as its edges' positions in :data:`EDGES`:
    ``(0, 2, 5), (0, 4), (1, 5), (3,)`` (0 -> 1 -> 2 -> 3, 0 -> 1 -> 3, 0 -> 2 -> 3, 0 -> 3)."""
    paths: list[tuple[int, ...]] = []

    def walk(node: int, edges: tuple[int, ...]) -> None:
        if node == NUM_NODES - 1:
            paths.append(edges)
            return
        for position, (to, source) in enumerate(EDGES):
            if source == node:
                walk(to, edges + (position,))

    walk(0, ())
    return tuple(paths)


PATH_FEATURES = sum(len(OP_NAMES) ** length for length in range(1, NUM_NODES))
"""The path encoding's length on NB201: every op sequence of length 1, 2 or 3, 5 + 25 + 125 = 155."""


def path_encoding(arch: Arch) -> np.ndarray:
    """The 155 binary features of the paths of ``arch``: a path of ops ``o_0 .. o_{l-1}`` (input to output) sets
    feature ``sum_{j<l} 5^j`` (the paths shorter than it) ``+ sum_j o_j 5^j`` (op indices in :data:`OP_NAMES`).
    All four paths count, as in naszilla's ``Cell201.encode_paths`` (a path through a ``none`` edge too)."""
    ops, base = arch.op_indices, len(OP_NAMES)
    features = np.zeros(PATH_FEATURES)
    for path in nb201_paths():
        offset = sum(base ** length for length in range(1, len(path)))
        features[offset + sum(ops[edge] * base ** j for j, edge in enumerate(path))] = 1.0
    return features


def unit_features(space: SearchSpace, candidate: Any) -> np.ndarray:
    """A hyper-parameter candidate's features: each categorical dimension one-hot, each numeric one its unit value."""
    parts = []
    for unit, count in zip(space.encode(candidate), space.cardinalities):
        if count:
            one_hot = np.zeros(count)
            one_hot[min(int(unit * count), count - 1)] = 1.0
            parts.append(one_hot)
        else:
            parts.append(np.array([unit]))
    return np.concatenate(parts)


def encoder(space: SearchSpace) -> Callable[[Any], np.ndarray]:
    """The predictor's encoding of the candidates of ``space``: the path encoding on NB201."""
    if isinstance(space, NB201Space):
        return path_encoding
    return lambda candidate: unit_features(space, candidate)


def mutate_each(space: SearchSpace, candidate: Any, rng: Any, prob: float = MUTATION_PROB) -> Any:
    """``candidate`` with each dimension changed independently with probability ``prob`` (a categorical one to
    another choice uniformly, a numeric one by a Gaussian step of 0.2 in the unit interval); may return it unchanged."""
    units = list(space.encode(candidate))
    for dim, count in enumerate(space.cardinalities):
        if rng.random() >= prob:
            continue
        if count > 1:
            old, new = min(int(units[dim] * count), count - 1), rng.randrange(count - 1)
            units[dim] = ((new if new < old else new + 1) + 0.5) / count
        elif count == 0:
            units[dim] = min(1.0, max(0.0, units[dim] + rng.gauss(0.0, 0.2)))
    return space.decode_units(units)


class MLPEnsemble:
    """``members`` independent ReLU networks ``inputs -> WIDTH x LAYERS -> 1``, held layer by layer as stacked
    arrays (member first) inside one flat float32 parameter vector (Keras' precision), so one Adam steps them all;
    Glorot-uniform weights and zero biases (Keras' initialisation)."""

    def __init__(self, members: int, inputs: int, rng: np.random.Generator, layers: int = LAYERS,
                 width: int = WIDTH) -> None:
        sizes = [inputs] + [width] * layers + [1]
        shapes = [shape for fan_in, fan_out in zip(sizes[:-1], sizes[1:])
                  for shape in ((members, fan_in, fan_out), (members, 1, fan_out))]
        self.params = np.zeros(sum(math.prod(shape) for shape in shapes), dtype=np.float32)
        self.grads = np.zeros_like(self.params)
        views, grads, start = [], [], 0
        for shape in shapes:
            end = start + math.prod(shape)
            views.append(self.params[start:end].reshape(shape))
            grads.append(self.grads[start:end].reshape(shape))
            start = end
        self.weights, self.biases = views[0::2], views[1::2]
        self.weight_grads, self.bias_grads = grads[0::2], grads[1::2]
        for weight in self.weights:
            limit = math.sqrt(6.0 / (weight.shape[1] + weight.shape[2]))
            weight[...] = rng.uniform(-limit, limit, weight.shape)

    def _forward(self, inputs: np.ndarray) -> list[np.ndarray]:
        """Every layer's output for ``inputs`` of shape [members or 1, n, features] (the last: [members, n, 1])."""
        outputs, hidden = [inputs], inputs
        last = len(self.weights) - 1
        for layer, (weight, bias) in enumerate(zip(self.weights, self.biases)):
            hidden = hidden @ weight + bias
            if layer < last:
                hidden = np.maximum(hidden, 0.0)
            outputs.append(hidden)
        return outputs

    def fit(self, inputs: np.ndarray, targets: np.ndarray, epochs: int, rng: np.random.Generator,
            batch_size: int = BATCH) -> None:
        """Minimise each member's mean absolute error on (``inputs``, ``targets``) with Adam: every epoch each
        member goes through its own shuffle of the data in batches of ``batch_size`` (the last one smaller)."""
        count, members = len(inputs), self.weights[0].shape[0]
        inputs, targets = inputs.astype(np.float32), targets.astype(np.float32)
        adam = Adam(LEARNING_RATE, BETAS, EPSILON)
        rows = np.tile(np.arange(count), (members, 1))
        for _ in range(epochs):
            order = rng.permuted(rows, axis=1)
            for start in range(0, count, batch_size):
                batch = order[:, start:start + batch_size]
                outputs = self._forward(inputs[batch])
                delta = np.sign(outputs[-1] - targets[batch][..., None]) / batch.shape[1]
                for layer in range(len(self.weights) - 1, -1, -1):
                    np.matmul(outputs[layer].transpose(0, 2, 1), delta, out=self.weight_grads[layer])
                    self.bias_grads[layer][...] = delta.sum(axis=1, keepdims=True)
                    if layer:
                        delta = (delta @ self.weights[layer].transpose(0, 2, 1)) * (outputs[layer] > 0)
                adam.step(self.params, self.grads)

    def predict(self, inputs: np.ndarray) -> np.ndarray:
        """Each member's prediction for each row of ``inputs``: shape [members, n]."""
        return self._forward(inputs[None].astype(np.float32))[-1][..., 0].astype(np.float64)


def independent_thompson(predictions: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """The ``count`` candidates (columns of ``predictions``, one row per ensemble member) with the highest
    independent Thompson draws, best first: one draw per candidate from ``N(mean, std)`` of its predictions
    (standard deviation over the members, as naszilla's ``acq_fn(..., 'its')``)."""
    draws = rng.normal(predictions.mean(axis=0), predictions.std(axis=0))
    return np.argsort(-draws, kind="stable")[:count]


@dataclass(frozen=True)
class BananasOptions(Options):
    num_init: int = setting(10, "random cells before the first predictor (the paper's 10)", count=True)
    per_round: int = setting(10, "cells chosen per round by independent Thompson sampling (the paper's k = 10)",
                             count=True)
    num_candidates: int = setting(100, "candidates made by mutation per round (the paper's 100)", count=True)
    ensemble: int = setting(5, "predictor networks in the ensemble (the paper's 5)", count=True)
    predictor_epochs: int = setting(150, "training epochs of each predictor network per round (naszilla's 150)",
                                    count=True)


@register_optimizer("bananas")
class Bananas(Optimizer):
    """BANANAS: random cells, then rounds of (train the ensemble on every evaluated cell, mutate the best cells
    into candidates, evaluate the ``per_round`` candidates of highest independent Thompson draws).  A round
    starts once every result of the previous one is in (``ask`` answers None while they are pending).  No cell is
    proposed twice; a round short of unseen candidates is filled with random unseen cells."""

    Options = BananasOptions

    def __init__(self, space: SearchSpace, seed: int, **options: Any) -> None:
        super().__init__(space, seed, **options)
        self.encode = encoder(space)
        self.evaluated: list[tuple[Any, float]] = []
        self.seen: set[str] = set()
        self.queue: deque[Any] = deque()
        self.pending = 0

    def ask(self) -> Proposal | None:
        if not self.queue:
            if self.pending:
                return None
            self.queue.extend(self._next_cells())
            if not self.queue:
                return None  # every cell of the space was proposed
        self.pending += 1
        return Proposal(self.queue.popleft())

    def tell(self, proposal: Proposal, score: float) -> None:
        self.pending -= 1
        self.evaluated.append((proposal.candidate, float(score)))

    def _next_cells(self) -> list[Any]:
        initial = self.options.num_init - len(self.evaluated)
        cells = [] if initial > 0 else self._acquire()
        wanted = initial if initial > 0 else self.options.per_round - len(cells)
        cells += distinct_samples(self.space, self.rng, wanted, self.seen | {self.space.key(c) for c in cells})
        self.seen.update(self.space.key(cell) for cell in cells)
        return cells

    def candidates(self) -> list[Any]:
        """Up to ``num_candidates`` distinct unseen mutations of the best evaluated cells (naszilla's
        ``get_candidates``: the best parent first, 100 tries from each until there are enough)."""
        ranked = sorted(self.evaluated, key=lambda member: -member[1])[:PARENTS]
        keys, found = set(self.seen), []
        for parent, _ in ranked:
            if len(found) >= self.options.num_candidates:
                break
            for _ in range(self.options.num_candidates):
                child = mutate_each(self.space, parent, self.rng)
                key = self.space.key(child)
                if key not in keys:
                    keys.add(key)
                    found.append(child)
        return found

    def _acquire(self) -> list[Any]:
        """One round: train the ensemble, score the candidates, keep the ``per_round`` best Thompson draws."""
        candidates = self.candidates()
        if not candidates:
            return []
        inputs = np.array([self.encode(cell) for cell, _ in self.evaluated])
        scores = np.array([score for _, score in self.evaluated])
        spread = scores.std() or 1.0
        rng = np.random.default_rng(self.rng.getrandbits(64))
        ensemble = MLPEnsemble(self.options.ensemble, inputs.shape[1], rng)
        ensemble.fit(inputs, (scores - scores.mean()) / spread, self.options.predictor_epochs, rng)
        predictions = ensemble.predict(np.array([self.encode(cell) for cell in candidates]))
        return [candidates[i] for i in independent_thompson(predictions, self.options.per_round, rng)]

    def state_dict(self) -> dict[str, Any]:
        to_json = self.space.to_json
        return {**super().state_dict(), "evaluated": [[to_json(c), s] for c, s in self.evaluated],
                "seen": sorted(self.seen), "queue": [to_json(c) for c in self.queue], "pending": self.pending}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        from_json = self.space.from_json
        self.evaluated = [(from_json(c), s) for c, s in state["evaluated"]]
        self.seen, self.pending = set(state["seen"]), state["pending"]
        self.queue = deque(from_json(c) for c in state["queue"])
