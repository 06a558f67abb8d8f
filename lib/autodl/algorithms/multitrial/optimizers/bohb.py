"""BOHB (Falkner, Klein and Hutter 2018): Hyperband brackets whose new candidates come from per-budget
kernel density models of the good and the bad results (a native version; no hpbandster).

Hyperband (Li et al. 2018) with ``eta``: ``S = floor(log_eta(max/min)) + 1`` budgets
``max * eta^-k`` (k = S-1..0); iteration ``i`` runs the bracket ``s = S - 1 - (i mod S)``, which starts
``ceil(S / (s + 1) * eta^s)`` candidates at the smallest of its ``s + 1`` budgets and keeps the best
``floor(n_0 * eta^-j)`` of them at its ``j``-th budget (successive halving).  hpbandster starts
``floor(S / (s + 1)) * eta^s`` instead, fewer in the middle brackets; we follow the Hyperband paper.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ....config import setting
from ....errors import ConfigError
from ..base import Optimizer, Options, Proposal, register_optimizer
from ..space import SearchSpace


def hyperband_budgets(min_budget: float, max_budget: float, eta: float) -> list[float]:
    """The budgets of Hyperband, smallest first (hpbandster's formula)."""
    count = -int(math.log(min_budget / max_budget) / math.log(eta)) + 1
    return [float(max_budget * eta ** -k) for k in np.linspace(count - 1, 0, count)]


def bracket(iteration: int, num_budgets: int, eta: float) -> tuple[list[int], int]:
    """(candidates per stage, index of its first budget) of Hyperband iteration ``iteration``."""
    s = num_budgets - 1 - iteration % num_budgets
    first = int(math.ceil(num_budgets / (s + 1) * eta ** s - 1e-9))
    return [max(int(first * eta ** -j), 1) for j in range(s + 1)], num_budgets - 1 - s


class KDE:
    """A product-kernel density: Gaussian kernels on numeric dimensions (values in [0, 1]), Aitchison-Aitken
    kernels on categorical ones (a category index); bandwidths by the normal reference rule
    ``1.06 * std * n^(-1/(4+d))``, at least ``min_bandwidth`` (and at most ``(n-1)/n`` on a categorical
    dimension of ``n`` choices, where the kernel becomes uniform)."""

    def __init__(self, data: np.ndarray, cardinalities: tuple[int, ...], min_bandwidth: float) -> None:
        self.data = np.asarray(data, dtype=np.float64)
        self.cards = np.array(cardinalities)
        self.categorical = self.cards > 0
        count, dims = self.data.shape
        bandwidth = 1.06 * self.data.std(axis=0) * count ** (-1.0 / (4 + dims))
        bandwidth = np.maximum(bandwidth, min_bandwidth)
        uniform = np.where(self.categorical, (self.cards - 1) / np.maximum(self.cards, 1), np.inf)
        self.bandwidth = np.minimum(bandwidth, uniform)

    def pdf(self, points: np.ndarray) -> np.ndarray:
        """The density at each row of ``points`` (shape [m, d]); returns [m]."""
        points = np.atleast_2d(points)[:, None, :]
        data, bw = self.data[None], self.bandwidth
        gauss = np.exp(-0.5 * ((points - data) / bw) ** 2) / (math.sqrt(2 * math.pi) * bw)
        other = np.where(self.cards > 1, bw / np.maximum(self.cards - 1, 1), 0.0)
        categorical = np.where(points == data, 1.0 - bw, other)
        kernels = np.where(self.categorical, categorical, gauss)
        return kernels.prod(axis=2).mean(axis=1)


@dataclass(frozen=True)
class BOHBOptions(Options):
    """hpbandster's BOHB options (its defaults, except the budgets: NAS-Bench-201's 12 to 200 epochs)."""

    min_budget: float = setting(12.0, "smallest budget (epochs)")
    max_budget: float = setting(200.0, "largest budget (epochs)")
    eta: float = setting(3.0, "Hyperband's reduction factor eta (> 1)")
    n_iters: int | None = setting(None, "Hyperband iterations (default: no limit)")
    num_samples: int = setting(64, "draws from the good density per new candidate", count=True)
    random_fraction: float = setting(1 / 3, "share of purely random candidates, in [0, 1]")
    bandwidth_factor: float = setting(3.0, "widening of the numeric kernels when drawing")
    min_bandwidth: float = setting(1e-3, "smallest kernel bandwidth")
    top_n_percent: int = setting(15, "percentage of the results that are 'good', in (0, 100)")
    min_points_in_model: int | None = setting(None, "results needed before a model is fitted "
                                                    "(default: dimensions + 1)")

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0 < self.min_budget <= self.max_budget or self.eta <= 1:
            raise ConfigError(f"BOHB needs 0 < min_budget <= max_budget and eta > 1, "
                              f"got {self.min_budget}, {self.max_budget}, {self.eta}")
        if not 0 <= self.random_fraction <= 1 or not 0 < self.top_n_percent < 100:
            raise ConfigError(f"BOHB needs 0 <= random_fraction <= 1 and 0 < top_n_percent < 100, "
                              f"got {self.random_fraction}, {self.top_n_percent}")
        if self.bandwidth_factor <= 0 or self.min_bandwidth <= 0:
            raise ConfigError(f"BOHB needs bandwidth_factor > 0 and min_bandwidth > 0, "
                              f"got {self.bandwidth_factor}, {self.min_bandwidth}")
        nones = {"n_iters": self.n_iters, "min_points_in_model": self.min_points_in_model}
        bad = [f"{key}={value}" for key, value in nones.items() if value is not None and value < 1]
        if bad:
            raise ConfigError(f"BOHB needs {', '.join(bad)} to be >= 1 (or unset)")


@register_optimizer("bohb")
class BOHB(Optimizer):
    """Options as in hpbandster's BOHB (:class:`BOHBOptions`): ``min_budget``/``max_budget``/``eta`` set the
    Hyperband schedule, ``n_iters`` the number of Hyperband iterations (None: no end), ``num_samples`` draws
    from the good model per new candidate, of which the one maximising ``l(x)/g(x)`` is proposed,
    ``random_fraction`` the share of purely random candidates, ``bandwidth_factor`` widens the numeric kernels
    when drawing, ``top_n_percent`` the share of results that are "good", ``min_points_in_model`` (None: d + 1)."""

    Options = BOHBOptions
    multi_fidelity = True

    def __init__(self, space: SearchSpace, seed: int, **options: Any) -> None:
        super().__init__(space, seed, **options)
        o = self.options
        self.budgets = hyperband_budgets(o.min_budget, o.max_budget, o.eta)
        self.eta, self.n_iters = o.eta, o.n_iters
        self.num_samples, self.random_fraction = o.num_samples, o.random_fraction
        self.bandwidth_factor, self.min_bandwidth, self.top_n_percent = o.bandwidth_factor, o.min_bandwidth, o.top_n_percent
        self.min_points = o.min_points_in_model or len(space.cardinalities) + 1
        self.np_rng = np.random.default_rng(seed)
        self.cards = np.array(space.cardinalities)
        self.iteration, self.stage = -1, 0
        self.stage_candidates: list[Any] = []
        self.stage_scores: list[float | None] = []
        self.issued = 0
        self.observations: dict[float, list[list[float]]] = {}  # budget -> [point..., loss]
        self.models: dict[float, tuple[KDE, KDE, int]] = {}      # budget -> (good, bad, observations used)
        self._next_iteration()

    # ----------------------------------------------------------------------------- schedule
    def _next_iteration(self) -> None:
        self.iteration += 1
        self.counts, self.first_budget = bracket(self.iteration, len(self.budgets), self.eta)
        self.stage, self.stage_candidates, self.stage_scores, self.issued = 0, [], [], 0

    @property
    def stage_budget(self) -> float:
        return self.budgets[self.first_budget + self.stage]

    def ask(self) -> Proposal | None:
        if self.n_iters is not None and self.iteration >= self.n_iters:
            return None
        if self.issued == self.counts[self.stage]:
            return None  # waiting for this stage's results
        if self.stage == 0:
            candidate = self._new_candidate()
            self.stage_candidates.append(candidate)
            self.stage_scores.append(None)
        else:
            candidate = self.stage_candidates[self.issued]
        self.issued += 1
        return Proposal(candidate, self.stage_budget, memo=(self.iteration, self.stage, self.issued - 1))

    def tell(self, proposal: Proposal, score: float) -> None:
        iteration, stage, position = proposal.memo
        if (iteration, stage) != (self.iteration, self.stage):
            raise ConfigError(f"BOHB was told a result of iteration {iteration} stage {stage} while in "
                              f"iteration {self.iteration} stage {self.stage}; tell results in the order asked")
        self.stage_scores[position] = score
        self._observe(proposal.candidate, proposal.budget, score)
        if self.issued == self.counts[self.stage] and None not in self.stage_scores:
            self._advance()

    def _advance(self) -> None:
        if self.stage + 1 == len(self.counts):
            self._next_iteration()
            return
        keep = self.counts[self.stage + 1]
        order = sorted(range(len(self.stage_scores)), key=lambda i: -self.stage_scores[i])  # stable: ties by order
        survivors = sorted(order[:keep])
        self.stage += 1
        self.stage_candidates = [self.stage_candidates[i] for i in survivors]
        self.stage_scores, self.issued = [None] * keep, 0

    # ------------------------------------------------------------------------------- models
    def _point(self, candidate: Any) -> list[float]:
        units = self.space.encode(candidate)
        return np.where(self.cards > 0, np.minimum(np.floor(units * self.cards), self.cards - 1), units).tolist()

    def _observe(self, candidate: Any, budget: float, score: float) -> None:
        rows = self.observations.setdefault(budget, [])
        rows.append(self._point(candidate) + [-score])
        if self.models and max(self.models) > budget:
            return
        self._fit(budget, len(rows))

    def _fit(self, budget: float, count: int) -> None:
        rows = np.array(self.observations[budget][:count])
        if len(rows) < self.min_points:
            return
        points, losses = rows[:, :-1], rows[:, -1]
        n_good = max(self.min_points, self.top_n_percent * len(rows) // 100)
        n_bad = max(self.min_points, (100 - self.top_n_percent) * len(rows) // 100)
        order = np.argsort(losses, kind="stable")
        good, bad = points[order[:n_good]], points[order[n_good:n_good + n_bad]]
        dims = points.shape[1]
        if len(good) <= dims or len(bad) <= dims:
            return
        self.models[budget] = (KDE(good, tuple(self.cards), self.min_bandwidth),
                               KDE(bad, tuple(self.cards), self.min_bandwidth), count)

    def _new_candidate(self) -> Any:
        if not self.models or self.np_rng.random() < self.random_fraction:
            return self.space.sample(self.rng)
        good, bad, _ = self.models[max(self.models)]
        draws = np.empty((self.num_samples, len(self.cards)))
        for row in range(self.num_samples):
            datum = good.data[self.np_rng.integers(len(good.data))]
            for dim, (value, bw, card) in enumerate(zip(datum, good.bandwidth, self.cards)):
                if card:
                    keep = self.np_rng.random() < 1 - bw
                    draws[row, dim] = value if keep else self.np_rng.integers(card)
                else:
                    draws[row, dim] = self._truncated_normal(value, bw * self.bandwidth_factor)
        ratio = np.maximum(bad.pdf(draws), 1e-32) / np.maximum(good.pdf(draws), 1e-32)
        best = draws[int(np.argmin(ratio))]
        units = np.where(self.cards > 0, (best + 0.5) / np.maximum(self.cards, 1), best)
        return self.space.decode(units)

    def _truncated_normal(self, mean: float, scale: float) -> float:
        """A draw of N(mean, scale) restricted to [0, 1] (by rejection; the clip only guards 100 misses)."""
        for _ in range(100):
            value = self.np_rng.normal(mean, scale)
            if 0.0 <= value <= 1.0:
                return float(value)
        return min(1.0, max(0.0, mean))

    # -------------------------------------------------------------------------------- state
    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "np_rng": self.np_rng.bit_generator.state, "iteration": self.iteration,
                "stage": self.stage, "issued": self.issued,
                "stage_candidates": [self.space.to_json(c) for c in self.stage_candidates],
                "stage_scores": list(self.stage_scores),
                "observations": [[budget, rows] for budget, rows in self.observations.items()],
                "models": [[budget, count] for budget, (_, _, count) in self.models.items()]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.np_rng.bit_generator.state = state["np_rng"]
        self.iteration = state["iteration"] - 1
        self._next_iteration()
        self.stage, self.issued = state["stage"], state["issued"]
        self.stage_candidates = [self.space.from_json(c) for c in state["stage_candidates"]]
        self.stage_scores = list(state["stage_scores"])
        self.observations = {budget: rows for budget, rows in state["observations"]}
        self.models = {}
        for budget, count in state["models"]:
            self._fit(budget, count)
