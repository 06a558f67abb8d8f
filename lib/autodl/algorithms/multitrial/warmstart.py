"""Zero-cost warm start: rank ``N`` random candidates by a zero-cost proxy before the search and start from the best.

An optimiser built with the option ``warm_start=N`` (REA, local search) holds a :class:`WarmStart` as its
``warm_start`` attribute: ``N`` distinct random candidates drawn from its seed when it is built.  Before the
first ask, the driver (:func:`~autodl.algorithms.multitrial.driver.run_trials`, given ``warm_scorer``) scores
them once through :func:`warm_up`; the optimiser then takes its starting candidates from the top of that ranking
(REA: its initial population; local search: its start and restart cells) and draws random ones once the ranking
is used up.  Scoring costs no benchmark time; with an evaluator whose cost is wall time (training, proxies) its
seconds are charged to the budget.  ``warm_start.json`` in the run directory keeps the scores and the seconds, so
a resumed search ranks the same way at the same cost without scoring again.

Nothing here imports torch: :func:`proxy_scorer` imports the proxy evaluator's module only for a search with a
warm start.
"""
from __future__ import annotations

import json
import math
import os
import random
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from ...errors import CheckpointError, ConfigError
from ...utils import atomic_write_text
from .settings import SearchSettings, evaluator_module
from .space import SearchSpace

WARM_START_FILE = "warm_start.json"

Scorer = Callable[[Any], float]
"""A zero-cost score of one candidate (higher predicts better)."""


def space_size(space: SearchSpace) -> int | None:
    """The number of candidates of an all-categorical space (NB201: 15,625); None if a dimension is numeric."""
    return math.prod(space.cardinalities) if all(space.cardinalities) else None


def distinct_samples(space: SearchSpace, rng: random.Random, count: int, exclude: Iterable[str] = ()) -> list[Any]:
    """Up to ``count`` distinct uniformly random candidates whose keys are not in ``exclude`` (fewer only when the
    space has no more)."""
    keys, found = set(exclude), []
    size = space_size(space)
    while len(found) < count and (size is None or len(keys) < size):
        candidate = space.sample(rng)
        key = space.key(candidate)
        if key not in keys:
            keys.add(key)
            found.append(candidate)
    return found


def require_warm_start(size: int) -> None:
    """Refuse a negative ``warm_start`` option in one line."""
    if size < 0:
        raise ConfigError(f"warm_start={size}: the number of cells ranked by the zero-cost proxy must be >= 0 (0: off)")


class WarmStart:
    """``size`` distinct random candidates of ``space`` (drawn from ``rng`` now) to rank by a zero-cost proxy;
    :meth:`pop` hands them out best first."""

    def __init__(self, space: SearchSpace, rng: random.Random, size: int) -> None:
        self.space = space
        self.candidates = distinct_samples(space, rng, size)
        self.ranking: list[Any] | None = None
        self.used = 0

    def rank(self, scores: Sequence[float]) -> None:
        """Order the candidates by their ``scores`` (best first; equal scores keep the drawing order)."""
        if len(scores) != len(self.candidates):
            raise ConfigError(f"the warm start has {len(self.candidates)} candidates but {len(scores)} scores")
        order = sorted(range(len(scores)), key=lambda i: -scores[i])
        self.ranking = [self.candidates[i] for i in order]

    def pop(self) -> Any | None:
        """The best candidate not handed out yet, or None once the ranking is used up."""
        if self.ranking is None:
            raise ConfigError(f"this optimiser has warm_start={len(self.candidates)} but its candidates were never "
                              "scored; run it through run_trials(..., warm_scorer=SCORER) (the command line scores "
                              "them with --proxy)")
        if self.used >= len(self.ranking):
            return None
        self.used += 1
        return self.ranking[self.used - 1]

    def state_dict(self) -> dict[str, Any]:
        ranking = None if self.ranking is None else [self.space.to_json(c) for c in self.ranking]
        return {"candidates": [self.space.to_json(c) for c in self.candidates], "ranking": ranking, "used": self.used}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.candidates = [self.space.from_json(c) for c in state["candidates"]]
        self.ranking = None if state["ranking"] is None else [self.space.from_json(c) for c in state["ranking"]]
        self.used = state["used"]


def warm_up(optimizer: Any, scorer: Scorer | None, save_dir: str | os.PathLike | None, charged: bool) -> float:
    """Rank ``optimizer``'s warm-start candidates by ``scorer`` (nothing to do without a warm start, or when its
    ranking was restored from a state dict); returns the seconds to charge to the budget: the scoring's wall time if
    ``charged``, else 0.  ``save_dir/warm_start.json`` keeps the scores for a resume."""
    warm = getattr(optimizer, "warm_start", None)
    if warm is None or warm.ranking is not None:
        return 0.0
    if scorer is None:
        raise ConfigError(f"the optimiser has warm_start={len(warm.candidates)} but the search has no zero-cost "
                          "scorer (exps/search-multitrial.py scores NB201 cells with --proxy; a hyper-parameter "
                          "search has none): drop warm_start or pass run_trials(..., warm_scorer=SCORER)")
    cells = [warm.space.to_json(c) for c in warm.candidates]
    path = None if save_dir is None else Path(save_dir) / WARM_START_FILE
    if path is not None and path.is_file():
        record = json.loads(path.read_text())
        if record.get("candidates") != cells:
            raise CheckpointError(f"{path} holds the warm start of another search; use the same settings to resume "
                                  "or a new --save-dir")
        scores, seconds = record["scores"], record["seconds"]
    else:
        start = time.perf_counter()
        scores = [float(scorer(candidate)) for candidate in warm.candidates]
        seconds = time.perf_counter() - start
        if path is not None:
            atomic_write_text(path, json.dumps({"candidates": cells, "scores": scores, "seconds": seconds}) + "\n")
    warm.rank(scores)
    return seconds if charged else 0.0


def proxy_scorer(settings: SearchSettings, seed: int) -> Scorer | None:
    """The zero-cost scorer of a command-line search whose algorithm has a warm start: the score of ``--proxy``
    on the proxy evaluator's batch and network (the proxy evaluator's module, and torch, are imported only here);
    None without a warm start."""
    if not settings.options.get("warm_start"):
        return None
    return evaluator_module("proxy").from_settings(settings, seed, None).score
