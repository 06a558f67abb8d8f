"""An HPO-CG problem: multinomial logistic regression with one L2 penalty per group of input
features, and its example on the built-in ``digits`` data (behind ``exps/hpo-cg.py``)."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from ..data.digits import load_digits_arrays
from ..errors import ConfigError
from ..utils import atomic_write_text
from .cg import ToleranceSchedule, hoag, inner_solve

PENALTIES = ("single", "row")


class L2LogisticRegression:
    """Softmax regression ``logits = x W + b`` trained on the mean cross-entropy plus
    ``0.5 * sum_g hyper[g] * ||W[features of group g]||^2`` (the bias is not penalised); the
    validation loss is the mean cross-entropy on held-out data."""

    def __init__(self, train: tuple[Tensor, Tensor], valid: tuple[Tensor, Tensor], groups: Tensor, num_classes: int) -> None:
        self.train_x, self.train_y = train
        self.valid_x, self.valid_y = valid
        self.groups = groups
        self.num_classes = num_classes

    @property
    def num_hyper(self) -> int:
        return int(self.groups.max()) + 1

    def init_params(self) -> list[Tensor]:
        features = self.train_x.shape[1]
        dtype = self.train_x.dtype
        return [torch.zeros(features, self.num_classes, dtype=dtype, requires_grad=True),
                torch.zeros(self.num_classes, dtype=dtype, requires_grad=True)]

    @staticmethod
    def logits(params: Sequence[Tensor], x: Tensor) -> Tensor:
        weight, bias = params
        return x @ weight + bias

    def train_loss(self, params: Sequence[Tensor], hyper: Tensor) -> Tensor:
        penalty = 0.5 * (hyper[self.groups].unsqueeze(1) * params[0] ** 2).sum()
        return F.cross_entropy(self.logits(params, self.train_x), self.train_y) + penalty

    def val_loss(self, params: Sequence[Tensor], hyper: Tensor) -> Tensor:
        return F.cross_entropy(self.logits(params, self.valid_x), self.valid_y)

    def evaluate(self, params: Sequence[Tensor], x: Tensor, y: Tensor) -> dict[str, float]:
        with torch.no_grad():
            logits = self.logits(params, x)
            return {"loss": float(F.cross_entropy(logits, y)),
                    "top1": 100.0 * float((logits.argmax(1) == y).double().mean())}


def digits_features(dtype: torch.dtype = torch.float64) -> dict[str, tuple[Tensor, Tensor]]:
    """The 8x8 ``digits`` images as 64 features in [0, 1], with labels, for the fixed train/valid/test split."""
    arrays = load_digits_arrays()
    features = torch.from_numpy(arrays["images"].reshape(len(arrays["images"]), -1)).to(dtype) / 16.0
    labels = torch.from_numpy(arrays["labels"]).long()
    return {name: (features[torch.from_numpy(arrays[f"{name}_index"])], labels[torch.from_numpy(arrays[f"{name}_index"])])
            for name in ("train", "valid", "test")}


def penalty_groups(penalty: str) -> Tensor:
    """Group index of each of the 64 pixels: one group (``single``) or one per image row (``row``, 8 groups)."""
    if penalty not in PENALTIES:
        raise ConfigError(f"penalty {penalty!r} is not supported; expected one of {', '.join(PENALTIES)}")
    pixels = torch.arange(64)
    return torch.zeros_like(pixels) if penalty == "single" else pixels // 8


def tune_digits_l2(penalty: str = "single", init: float = 1.0, iterations: int = 30,
                   schedule: ToleranceSchedule = ToleranceSchedule(), lower: float = 1e-8, upper: float = 1e3,
                   save_dir: str | os.PathLike | None = None,
                   callback: Callable[[dict], None] | None = None) -> dict[str, Any]:
    """Tune the L2 penalties of logistic regression on ``digits`` with HOAG (float64, deterministic).

    Returns the penalties before and after with the train/valid/test loss and top-1 accuracy at
    each, the wall time and the per-iteration history. With ``save_dir``, writes
    ``result.json`` and ``history.jsonl`` there (atomically, at the end).
    """
    if not init > 0:
        raise ConfigError(f"the initial L2 penalty must be > 0, got {init}")
    data = digits_features()
    groups = penalty_groups(penalty)
    problem = L2LogisticRegression(data["train"], data["valid"], groups, num_classes=10)
    start = time.perf_counter()
    initial = torch.full((problem.num_hyper,), float(init), dtype=torch.float64)
    result = hoag(problem, problem.init_params(), initial, iterations=iterations, schedule=schedule,
                  lower=lower, upper=upper, callback=callback)
    wall = time.perf_counter() - start

    def scores(hyper: Tensor, params: list[Tensor]) -> dict[str, Any]:
        return {"hyper": hyper.tolist(), **{f"{split}_{key}": value for split in ("train", "valid", "test")
                                            for key, value in problem.evaluate(params, *data[split]).items()}}

    # the starting point solved tightly, for comparison
    start_params = problem.init_params()
    inner_solve(problem, start_params, initial, tol=1e-8)
    summary = {"penalty": penalty, "num_hyper": problem.num_hyper, "iterations": iterations,
               "schedule": {"kind": schedule.kind, "initial": schedule.initial, "rate": schedule.rate},
               "initial": scores(initial, start_params), "final": scores(result.hyper, result.params),
               "wall_time_s": wall}
    if save_dir is not None:
        save_dir = Path(save_dir)
        atomic_write_text(save_dir / "history.jsonl", "".join(json.dumps(r) + "\n" for r in result.history))
        atomic_write_text(save_dir / "result.json", json.dumps(summary, indent=2) + "\n")
    return {**summary, "history": result.history}
