"""Training and evaluating an image classifier: the :class:`ClassifierTask` on the shared loop."""
from __future__ import annotations

import time
from typing import Any, Iterable

import torch
from torch import nn

from ..config import OptimConfig
from .device import Precision, uses_channels_last
from .distill import DistillationLoss
from .distributed import DistInfo, average_buffers, wrap_ddp
from .losses import build_criterion
from .meters import correct_topk
from .optim import build_optim_scheduler, drop_path_schedule
from .trainer import Task


def split_outputs(outputs: Any) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``(logits, aux_logits or None)`` from a model's output: a tensor, ``(features, logits)`` or
    ``(features, (logits, aux_logits))``."""
    if isinstance(outputs, torch.Tensor):
        return outputs, None
    logits = outputs[1]
    if isinstance(logits, (tuple, list)):
        return logits[0], logits[1]
    return logits, None


def to_device(tensor: torch.Tensor, device: torch.device, channels_last: bool = False) -> torch.Tensor:
    """Move a batch tensor; asynchronous only from pinned memory (the loaders pin on CUDA), since a
    non-blocking copy from pageable memory first stages the data through a pinned buffer."""
    if tensor.device != device:
        tensor = tensor.to(device, non_blocking=device.type == "cuda" and tensor.is_pinned())
    if channels_last and tensor.dim() == 4:
        tensor = tensor.contiguous(memory_format=torch.channels_last)
    return tensor


@torch.no_grad()
def evaluate(model: nn.Module, loader: Iterable, criterion: nn.Module, device: torch.device,
             precision: Precision | None = None) -> dict[str, float]:
    """Loss and top-1/top-5 accuracy (percent) of ``model`` over ``loader`` in eval mode."""
    precision = precision or Precision(device, False)
    was_training = model.training
    model.eval()
    totals = torch.zeros(4, dtype=torch.float64, device=device)
    channels_last = uses_channels_last(model)
    for inputs, targets in loader:
        inputs, targets = to_device(inputs, device, channels_last), to_device(targets, device)
        with precision.autocast():
            logits, _ = split_outputs(model(inputs))
            loss = criterion(logits.float(), targets)
        top1, top5 = correct_topk(logits, targets, (1, 5))
        totals += torch.stack([loss.double() * len(targets), top1.double(), top5.double(),
                               torch.tensor(len(targets), dtype=torch.float64, device=device)])
    model.train(was_training)
    loss_sum, top1_sum, top5_sum, count = totals.tolist()
    count = count or 1.0
    return {"loss": loss_sum / count, "top1": 100.0 * top1_sum / count, "top5": 100.0 * top5_sum / count}


class ClassifierTask(Task):
    """Supervised training with cross-entropy (+ auxiliary-head loss) under an OptimConfig recipe.

    ``eval_loaders`` maps a name (``"test"``, ``"valid"``) to a loader evaluated every
    ``eval_frequency`` epochs and at the last epoch; metrics are recorded as ``<name>_top1`` etc.
    """

    def __init__(self, model: nn.Module, config: OptimConfig, train_loader: Iterable,
                 eval_loaders: dict[str, Iterable], device: torch.device, amp: bool = False,
                 dist_info: DistInfo = DistInfo(), eval_frequency: int = 1) -> None:
        self.device = device
        self.base_model = model
        self.model = wrap_ddp(model, device, dist_info)
        self.config = config
        self.optimizer, self.scheduler = build_optim_scheduler(model.parameters(), config)
        self.criterion = build_criterion(config)
        self.train_loader, self.eval_loaders = train_loader, eval_loaders
        self.precision = Precision(device, amp)
        self.channels_last = uses_channels_last(model)
        self.eval_frequency = eval_frequency

    def start_epoch(self, epoch: int, total_epochs: int) -> None:
        self.scheduler.update(epoch, 0.0)
        if hasattr(self.base_model, "drop_path_max"):
            self.base_model.drop_path_prob = drop_path_schedule(self.base_model.drop_path_max, epoch, total_epochs)
        sampler = getattr(self.train_loader, "sampler", None)
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch)
        self.model.train()

    def compute_loss(self, inputs: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The training loss of a batch and the logits it scored; an auxiliary head adds
        ``auxiliary`` x its loss.  Subclasses (distillation) change the loss here."""
        logits, aux_logits = split_outputs(self.model(inputs))
        loss = self.criterion(logits, targets)
        if aux_logits is not None and self.config.auxiliary > 0:
            loss = loss + self.config.auxiliary * self.criterion(aux_logits, targets)
        return loss, logits

    def train_step(self, batch: Any, epoch: int, fraction: float) -> dict[str, Any]:
        inputs, targets = batch
        inputs, targets = to_device(inputs, self.device, self.channels_last), to_device(targets, self.device)
        self.scheduler.update(epoch, fraction)
        self.optimizer.zero_grad(set_to_none=True)
        with self.precision.autocast():
            loss, logits = self.compute_loss(inputs, targets)
        self.precision.backward_step(loss, self.optimizer)
        with torch.no_grad():
            top1, top5 = correct_topk(logits, targets, (1, 5))
            n = len(targets)
            return {"loss": loss.detach() * n, "top1": top1 * 100.0, "top5": top5 * 100.0, "n": n}

    def end_epoch(self, epoch: int, total_epochs: int) -> dict[str, float]:
        metrics = {"lr": self.scheduler.get_lr()[0]}
        average_buffers(self.base_model)
        if (epoch + 1) % self.eval_frequency == 0 or epoch + 1 == total_epochs:
            for name, loader in self.eval_loaders.items():
                began = time.perf_counter()
                result = evaluate(self.base_model, loader, self.criterion, self.device, self.precision)
                result["time_s"] = time.perf_counter() - began
                metrics.update({f"{name}_{key}": value for key, value in result.items()})
        return metrics

    def state_dict(self) -> dict[str, Any]:
        return {"model": self.base_model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(), "scaler": self.precision.scaler.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.base_model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        if state.get("scaler"):
            self.precision.scaler.load_state_dict(state["scaler"])


class DistillationTask(ClassifierTask):
    """Knowledge distillation (the original ``Simple-KD``): the student learns from the targets and
    from a frozen teacher, ``(1 - alpha) CE + alpha T^2 KL(teacher || student)``."""

    def __init__(self, model: nn.Module, teacher: nn.Module, config: OptimConfig, train_loader: Iterable,
                 eval_loaders: dict[str, Iterable], device: torch.device, alpha: float = 0.9,
                 temperature: float = 4.0, **kwargs: Any) -> None:
        super().__init__(model, config, train_loader, eval_loaders, device, **kwargs)
        self.teacher = teacher.eval().requires_grad_(False)
        self.distill = DistillationLoss(alpha, temperature)
        self.teacher_metrics: dict[str, float] | None = None

    def compute_loss(self, inputs: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            teacher_logits, _ = split_outputs(self.teacher(inputs))
        logits, _ = split_outputs(self.model(inputs))
        return self.distill(logits, teacher_logits.float(), targets), logits

    def end_epoch(self, epoch: int, total_epochs: int) -> dict[str, float]:
        metrics = super().end_epoch(epoch, total_epochs)
        if self.teacher_metrics is None:  # the teacher is frozen: evaluate it once
            self.teacher_metrics = {}
            for name, loader in self.eval_loaders.items():
                result = evaluate(self.teacher, loader, self.criterion, self.device, self.precision)
                self.teacher_metrics[f"teacher_{name}_top1"] = result["top1"]
        return {**metrics, **self.teacher_metrics}
