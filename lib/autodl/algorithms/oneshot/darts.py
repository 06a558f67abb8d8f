"""DARTS (Liu et al., ICLR 2019): softmax-relaxed architecture, first order (V1) or unrolled second order (V2).

V1 (spec 2.1): a weight step on the train batch, then an architecture step on the valid batch.
V2 (spec 2.2): the architecture step first, with the gradient of the valid loss after one virtual
SGD step of the weights, ``w' = w - eta (mu m + grad_w L_train(w, alpha) + lambda w)``:
``d alpha = grad_alpha L_val(w', alpha) - eta H``, where ``H`` approximates
``grad^2_{alpha, w} L_train(w, alpha) . grad_{w'} L_val(w', alpha)`` by central finite differences
at ``w +- R v`` with ``R = 0.01 / ||v||``; then the weight step.  Only the weights are clipped
(the original also clipped the stale architecture gradients, inventory section 8).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch.func import functional_call

from ...config import SearchConfig, setting
from ...errors import ConfigError
from ..registry import register_algorithm
from .base import SearchTask


@dataclass(frozen=True)
class DARTSSettings(SearchConfig):
    order: int = setting(1, "DARTS: 1 (first order) or 2 (the unrolled second-order gradient)")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.order not in (1, 2):
            raise ConfigError(f"order must be 1 (first-order DARTS) or 2 (second order), got {self.order}")


@register_algorithm("darts-v1", recipe="DARTS", order=1)
@register_algorithm("darts-v2", recipe="DARTS", order=2)
class DARTS(SearchTask):
    """DARTS with ``config.order`` 1 (``darts-v1``) or 2 (``darts-v2``)."""

    Settings = DARTSSettings

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.config.order == 2 and self.supernet.extra_arch_parameters():
            raise ConfigError(f"second-order DARTS differentiates the op tables only, and this supernet's cells also "
                              f"take {', '.join(self.supernet.extra_arch_parameters())}; search it with order 1")

    def search_step(self, inputs, targets, arch_inputs, arch_targets) -> dict[str, Any]:
        if self.config.order == 1:
            sums = self.weight_step(inputs, targets, weights=self.softmax_weights())
            return {**sums, **self.arch_step(arch_inputs, arch_targets, self.softmax_weights())}
        gradients, sums = self.unrolled_arch_gradient(inputs, targets, arch_inputs, arch_targets)
        self.a_optimizer.zero_grad(set_to_none=True)
        for alpha, grad in zip(self.arch_parameters, gradients):
            alpha.grad = grad
        self.apply_arch_gradients()
        return {**self.weight_step(inputs, targets, weights=self.softmax_weights()), **sums}

    # ------------------------------------------------------------------ second order
    def _loss(self, params: dict[str, torch.Tensor], inputs: torch.Tensor, targets: torch.Tensor):
        """The loss at weights ``params`` (buffers copied, so BN statistics are not touched) and its logits."""
        buffers = {name: b.clone() for name, b in self.supernet.named_buffers()}
        weights = [torch.softmax(params[name], dim=-1) for name in self._arch_names]
        logits = functional_call(self.supernet, {**params, **buffers}, (inputs,), {"weights": weights})[1]
        return self.criterion(logits, targets), logits

    @property
    def _arch_names(self) -> list[str]:
        ids = {id(a) for a in self.arch_parameters}
        return [name for name, p in self.supernet.named_parameters() if id(p) in ids]

    def unrolled_arch_gradient(self, inputs, targets, arch_inputs, arch_targets) -> tuple[list[torch.Tensor], dict]:
        """The second-order architecture gradient of spec 2.2 (and the valid-batch sums for the metrics)."""
        named = dict(self.supernet.named_parameters())
        arch_names = self._arch_names
        weight_names = [name for name in named if name not in arch_names]
        weights = [named[name] for name in weight_names]
        alphas = [named[name] for name in arch_names]
        group = self.w_optimizer.param_groups[0]
        eta, momentum, decay = group["lr"], group["momentum"], group["weight_decay"]

        train_loss, _ = self._loss(named, inputs, targets)
        grads = torch.autograd.grad(train_loss, weights)
        unrolled = {}
        for name, w, g in zip(weight_names, weights, grads):
            buffer = self.w_optimizer.state.get(w, {}).get("momentum_buffer")
            step = g + decay * w.detach()
            if buffer is not None:
                step = step + momentum * buffer
            unrolled[name] = (w.detach() - eta * step).requires_grad_()
        unrolled.update({name: a for name, a in zip(arch_names, alphas)})

        valid_loss, valid_logits = self._loss(unrolled, arch_inputs, arch_targets)
        v_and_alpha = torch.autograd.grad(valid_loss, [unrolled[n] for n in weight_names] + alphas)
        vector, direct = v_and_alpha[:len(weights)], v_and_alpha[len(weights):]
        hessian = self._hessian_vector(named, weight_names, arch_names, vector, inputs, targets)
        gradients = [d - eta * h for d, h in zip(direct, hessian)]
        return gradients, self._sums("arch_", valid_loss, valid_logits, arch_targets)

    def _hessian_vector(self, named, weight_names, arch_names, vector, inputs, targets) -> list[torch.Tensor]:
        radius = 0.01 / torch.cat([v.reshape(-1) for v in vector]).norm()
        gradients = []
        for sign in (1.0, -1.0):
            shifted = {name: (named[name].detach() + sign * radius * v) for name, v in zip(weight_names, vector)}
            shifted.update({name: named[name] for name in arch_names})
            loss, _ = self._loss(shifted, inputs, targets)
            gradients.append(torch.autograd.grad(loss, [named[name] for name in arch_names]))
        return [(plus - minus) / (2 * radius) for plus, minus in zip(*gradients)]
