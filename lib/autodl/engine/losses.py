"""Losses: cross-entropy, label-smoothed cross-entropy and knowledge distillation."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..config import OptimConfig


class LabelSmoothingCrossEntropy(nn.Module):
    """Cross-entropy against targets ``(1 - eps) * one_hot + eps / K``, averaged over the batch."""

    def __init__(self, epsilon: float) -> None:
        super().__init__()
        self.epsilon = epsilon

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        log_probs = F.log_softmax(logits, dim=1)
        num_classes = logits.shape[1]
        smooth = torch.full_like(log_probs, self.epsilon / num_classes)
        smooth.scatter_add_(1, targets.unsqueeze(1),
                            torch.full_like(log_probs[:, :1], 1.0 - self.epsilon))
        return -(smooth * log_probs).sum(dim=1).mean()


def build_criterion(config: OptimConfig) -> nn.Module:
    """``Softmax`` -> cross-entropy; ``SmoothSoftmax`` -> label smoothing with ``label_smooth``."""
    if config.criterion == "SmoothSoftmax":
        return LabelSmoothingCrossEntropy(config.label_smooth)
    return nn.CrossEntropyLoss()
