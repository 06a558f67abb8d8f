"""Running averages and top-k accuracy."""
from __future__ import annotations

import torch


class AverageMeter:
    """Tracks the latest value, the sum, the count and the average of a quantity."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.val = self.sum = self.avg = 0.0
        self.count = 0

    def update(self, value: float, n: int = 1) -> None:
        self.val = value
        self.sum += value * n
        self.count += n
        self.avg = self.sum / self.count

    def __repr__(self) -> str:
        return f"AverageMeter(val={self.val:.4f}, avg={self.avg:.4f}, count={self.count})"


def correct_topk(logits: torch.Tensor, targets: torch.Tensor, topk: tuple[int, ...] = (1, 5)) -> list[torch.Tensor]:
    """Number of samples whose target is among the ``k`` highest logits, for each ``k`` (as tensors, no sync)."""
    maxk = min(max(topk), logits.shape[1])
    hits = logits.topk(maxk, dim=1).indices.eq(targets.unsqueeze(1))  # at most one hit per row
    return [hits[:, : min(k, maxk)].sum() for k in topk]


def obtain_accuracy(logits: torch.Tensor, targets: torch.Tensor, topk: tuple[int, ...] = (1,)) -> list[float]:
    """Top-k accuracies in percent, as the original's helper of the same name."""
    return [100.0 * float(c) / len(targets) for c in correct_topk(logits, targets, topk)]
