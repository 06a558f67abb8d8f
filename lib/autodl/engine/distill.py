"""Knowledge distillation loss of the original ``Simple-KD`` procedure."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError


class DistillationLoss(nn.Module):
    """``(1 - alpha) * CE(student, targets) + alpha * T^2 * KL(teacher || student)`` at temperature ``T``.

    The KL term compares the temperature-softened distributions and is averaged over the batch
    (``batchmean``); the ``T^2`` factor keeps its gradient scale independent of ``T``.
    """

    def __init__(self, alpha: float = 0.9, temperature: float = 4.0) -> None:
        super().__init__()
        if not 0.0 <= alpha <= 1.0:
            raise ConfigError(f"KD alpha must be in [0, 1], got {alpha}; the original recipes use 0.9")
        if temperature <= 0:
            raise ConfigError(f"KD temperature must be > 0, got {temperature}; the original recipes use 4")
        self.alpha = float(alpha)
        self.temperature = float(temperature)

    def forward(self, student_logits: torch.Tensor, teacher_logits: torch.Tensor,
                targets: torch.Tensor) -> torch.Tensor:
        hard = F.cross_entropy(student_logits, targets)
        temperature = self.temperature
        student_log_probs = F.log_softmax(student_logits / temperature, dim=1)
        teacher_log_probs = F.log_softmax(teacher_logits.detach() / temperature, dim=1)
        soft = F.kl_div(student_log_probs, teacher_log_probs, reduction="batchmean", log_target=True)
        return (1.0 - self.alpha) * hard + self.alpha * temperature * temperature * soft
