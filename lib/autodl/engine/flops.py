"""FLOPs and parameter counts with the original's semantics.

FLOPs are multiply-accumulates per image of every ``Conv1d``/``Conv2d`` (``k * C_in / groups``
per output element, + 1 per output element with a bias) and ``Linear`` (``in`` per output element,
+ 1 with a bias), measured by one forward pass in eval mode; pooling, normalisation, activations
and additions are free.  Parameters of any sub-module named ``auxiliary_head`` are excluded from
the parameter count, as the original excluded the auxiliary classifier.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

AUXILIARY_HEAD = "auxiliary_head"


def _unwrap(model: nn.Module) -> nn.Module:
    return model.module if isinstance(model, (nn.DataParallel, nn.parallel.DistributedDataParallel)) else model


def count_parameters(model: nn.Module) -> int:
    """Exact number of parameters, without those of auxiliary heads."""
    model = _unwrap(model)
    auxiliary = {id(p) for name, module in model.named_modules()
                 if name.split(".")[-1] == AUXILIARY_HEAD for p in module.parameters()}
    return sum(p.numel() for p in model.parameters() if id(p) not in auxiliary)


def _macs(module: nn.Module, output: torch.Tensor) -> int:
    if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
        per_output = module.in_channels // module.groups
        for size in module.kernel_size:
            per_output *= size
    else:  # nn.Linear
        per_output = module.in_features
    if module.bias is not None:
        per_output += 1
    return per_output * output.numel()


def count_flops(model: nn.Module, shape: Sequence[int]) -> float:
    """Multiply-accumulates per image of one forward pass on a random input of ``shape`` (N, C, H, W)."""
    model = _unwrap(model)
    total = [0]

    def hook(module: nn.Module, inputs, output) -> None:
        total[0] += _macs(module, output)

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear))]
    was_training = model.training
    parameter = next(model.parameters(), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    try:
        model.eval()
        with torch.no_grad():
            model(torch.rand(*shape, device=device))
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    return total[0] / shape[0]


def get_model_infos(model: nn.Module, shape: Sequence[int]) -> tuple[float, float]:
    """``(FLOPs in millions, parameters in millions)`` as the original ``get_model_infos`` reports them."""
    return count_flops(model, shape) / 1e6, count_parameters(model) / 1e6
