"""REINFORCE (Williams 1992) with the NAS-Bench-201 settings (spec 2.7): a categorical policy per dimension
(the 6 x 5 op logits on NB201), Adam, and a bias-corrected moving-average reward baseline."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ....config import setting
from ....errors import ConfigError
from ..base import Optimizer, Options, Proposal, register_optimizer
from ..space import SearchSpace


class MovingAverage:
    """Exponential moving average in numerator/denominator form (bias-corrected from the first value)."""

    def __init__(self, momentum: float) -> None:
        self.momentum, self.numerator, self.denominator = momentum, 0.0, 0.0

    def update(self, value: float) -> None:
        self.numerator = self.momentum * self.numerator + (1 - self.momentum) * value
        self.denominator = self.momentum * self.denominator + (1 - self.momentum)

    @property
    def value(self) -> float:
        return self.numerator / self.denominator


class Adam:
    """Adam (Kingma and Ba 2015) with torch's defaults (betas 0.9/0.999, eps 1e-8), on one NumPy array."""

    def __init__(self, lr: float, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        self.lr, self.betas, self.eps = lr, betas, eps
        self.step_count, self.exp_avg, self.exp_avg_sq = 0, None, None

    def step(self, param: np.ndarray, grad: np.ndarray) -> None:
        """Update ``param`` in place against ``grad`` (a descent step)."""
        beta1, beta2 = self.betas
        if self.exp_avg is None:
            self.exp_avg, self.exp_avg_sq = np.zeros_like(param), np.zeros_like(param)
        self.step_count += 1
        self.exp_avg = beta1 * self.exp_avg + (1 - beta1) * grad
        self.exp_avg_sq = beta2 * self.exp_avg_sq + (1 - beta2) * grad * grad
        bias1, bias2 = 1 - beta1 ** self.step_count, 1 - beta2 ** self.step_count
        denom = np.sqrt(self.exp_avg_sq) / math.sqrt(bias2) + self.eps
        param -= (self.lr / bias1) * self.exp_avg / denom


@dataclass(frozen=True)
class ReinforceOptions(Options):
    learning_rate: float = setting(0.01, "Adam learning rate of the policy (the original's docs use 0.5)")
    ema_momentum: float = setting(0.9, "momentum of the moving-average reward baseline, in [0, 1)")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.learning_rate <= 0 or not 0 <= self.ema_momentum < 1:
            raise ConfigError(f"REINFORCE needs learning_rate > 0 and 0 <= ema_momentum < 1, "
                              f"got {self.learning_rate} and {self.ema_momentum}")


@register_optimizer("reinforce")
class Reinforce(Optimizer):
    """Samples one choice per dimension from ``softmax(logits)``; after each reward ``r`` it updates the
    baseline ``b`` with ``r`` first, then takes an Adam step on ``-(r - b) * sum(log pi(choices))``.
    Numeric dimensions of a hyper-parameter space are policies over :data:`~.space.REINFORCE_BINS` levels.
    Logits start at ``1e-3 * N(0, 1)``; ragged dimensions are padded with ``-inf`` logits."""

    Options = ReinforceOptions

    def __init__(self, space: SearchSpace, seed: int, **options: Any) -> None:
        super().__init__(space, seed, **options)
        self.np_rng = np.random.default_rng(seed)
        sizes = space.policy_sizes()
        self.mask = np.arange(max(sizes))[None, :] < np.array(sizes)[:, None]
        self.last = np.array(sizes) - 1
        self.logits = np.where(self.mask, 1e-3 * self.np_rng.standard_normal(self.mask.shape), -np.inf)
        self.optimizer = Adam(self.options.learning_rate)
        self.baseline = MovingAverage(self.options.ema_momentum)

    def probabilities(self) -> np.ndarray:
        shifted = np.exp(self.logits - self.logits.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)

    def ask(self) -> Proposal:
        cumulative = np.cumsum(self.probabilities(), axis=1)
        draws = self.np_rng.random(len(cumulative))
        # inverse-CDF sampling per dimension (capped at the last real choice against rounding)
        choices = np.minimum((cumulative <= draws[:, None]).sum(axis=1), self.last).tolist()
        return Proposal(self.space.from_choices(choices), memo=choices)

    def tell(self, proposal: Proposal, score: float) -> None:
        self.baseline.update(score)
        advantage = score - self.baseline.value
        onehot = np.zeros(self.logits.shape)
        onehot[np.arange(len(onehot)), proposal.memo] = 1.0
        # d/dlogits of -(advantage) * log softmax(logits)[choice] = -(advantage) * (onehot - p)
        grad = np.where(self.mask, -advantage * (onehot - self.probabilities()), 0.0)
        self.optimizer.step(self.logits, grad)

    def state_dict(self) -> dict[str, Any]:
        adam = self.optimizer
        return {**super().state_dict(), "np_rng": self.np_rng.bit_generator.state,
                "logits": np.where(self.mask, self.logits, 0.0).tolist(),
                "baseline": [self.baseline.numerator, self.baseline.denominator],
                "adam": {"step": adam.step_count,
                         "exp_avg": None if adam.exp_avg is None else adam.exp_avg.tolist(),
                         "exp_avg_sq": None if adam.exp_avg_sq is None else adam.exp_avg_sq.tolist()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.np_rng.bit_generator.state = state["np_rng"]
        self.logits = np.where(self.mask, np.array(state["logits"], dtype=np.float64), -np.inf)
        self.baseline.numerator, self.baseline.denominator = state["baseline"]
        adam = state["adam"]
        self.optimizer.step_count = adam["step"]
        self.optimizer.exp_avg = None if adam["exp_avg"] is None else np.array(adam["exp_avg"])
        self.optimizer.exp_avg_sq = None if adam["exp_avg_sq"] is None else np.array(adam["exp_avg_sq"])
