"""TAS on torchvision's ResNets: search ``resnet18`` ... ``resnet152`` by name and build the found shape as a
plain ``torchvision.models.ResNet`` (same module names and forward; only the widths and block counts differ),
so a trained pruned network can be saved and loaded with torch and torchvision alone.

torchvision's layout: 7x7 stride-2 stem and max-pool; the stride of a bottleneck on its 3x3 convolution;
a projection shortcut (strided 1x1 convolution + BN) wherever the stride or the width changes.
"""
from __future__ import annotations

from typing import Any

from torch import nn

from ..errors import ConfigError
from .baseline_common import check_num_classes, init_baseline_weights
from .registry import register_model
from .resnet_imagenet import STAGE_WIDTHS
from .shape_infer import BLOCK_LAYOUTS, full_xchannels, kept_blocks
from .shape_search import ShapeSearchResNet, imagenet_search_resnet

TORCHVISION_RESNETS = {"resnet18": ("basic", [2, 2, 2, 2]), "resnet34": ("basic", [3, 4, 6, 3]),
                       "resnet50": ("bottleneck", [3, 4, 6, 3]), "resnet101": ("bottleneck", [3, 4, 23, 3]),
                       "resnet152": ("bottleneck", [3, 8, 36, 3])}


def torchvision_layout(arch: str) -> tuple[str, list[int]]:
    """(block kind, blocks per stage) of a torchvision ResNet name."""
    if arch not in TORCHVISION_RESNETS:
        raise ConfigError(f"unknown torchvision ResNet {arch!r}; expected one of {', '.join(TORCHVISION_RESNETS)}")
    block, layers = TORCHVISION_RESNETS[arch]
    return block, list(layers)


@register_model("shape-torchvision-resnet")
def shape_torchvision_resnet(arch: str, xchannels: list[int] | None = None, xblocks: list[int] | None = None,
                             num_classes: int = 1000, estimated_FLOP: float | None = None) -> nn.Module:
    """A ``torchvision.models.ResNet`` of a searched shape (without ``xchannels``/``xblocks``: ``arch`` itself).
    Its forward returns the logits, as torchvision's does."""
    from torchvision.models import resnet

    model_name = "shape-torchvision-resnet"
    check_num_classes(num_classes, model_name)
    block, layers = torchvision_layout(arch)
    kernels = BLOCK_LAYOUTS[block][0]
    xchannels = list(xchannels) if xchannels is not None else full_xchannels([64], STAGE_WIDTHS, layers, block)
    xblocks = list(xblocks) if xblocks is not None else list(layers)
    plan, channels = kept_blocks(xchannels, xblocks, layers, len(kernels), 1, model_name)
    block_class = resnet.BasicBlock if block == "basic" else resnet.Bottleneck
    model = resnet.ResNet(block_class, layers, num_classes=num_classes)
    model.conv1 = nn.Conv2d(xchannels[0], xchannels[1], 7, 2, 3, bias=False)
    model.bn1 = nn.BatchNorm2d(xchannels[1])
    stages: list[list[nn.Module]] = [[] for _ in layers]
    for stage, index, widths in plan:
        unit = getattr(model, f"layer{stage + 1}")[index]
        stride = 2 if stage > 0 and index == 0 else 1
        for position, (c_in, c_out, kernel) in enumerate(zip(widths[:-1], widths[1:], kernels), start=1):
            strided = stride if (position == 1 if block == "basic" else position == 2) else 1
            setattr(unit, f"conv{position}", nn.Conv2d(c_in, c_out, kernel, strided, kernel // 2, bias=False))
            setattr(unit, f"bn{position}", nn.BatchNorm2d(c_out))
        unit.downsample = (nn.Sequential(nn.Conv2d(widths[0], widths[-1], 1, stride, bias=False),
                                         nn.BatchNorm2d(widths[-1]))
                           if stride != 1 or widths[0] != widths[-1] else None)
        stages[stage].append(unit)
    for stage, units in enumerate(stages):
        setattr(model, f"layer{stage + 1}", nn.Sequential(*units))
    model.fc = nn.Linear(channels, num_classes)
    init_baseline_weights(model)
    model.estimated_flops = estimated_FLOP
    return model


@register_model("search.shape-torchvision-resnet")
def search_shape_torchvision_resnet(arch: str, num_classes: int = 1000, mode: str = "shape",
                                    input_size: int = 224) -> ShapeSearchResNet:
    """The searchable torchvision ResNet ``arch``; its shapes build as ``shape-torchvision-resnet``."""
    block, layers = torchvision_layout(arch)
    infer_config: dict[str, Any] = {"name": "shape-torchvision-resnet", "arch": arch}
    return imagenet_search_resnet(block, layers, num_classes, mode, input_size, "torchvision", infer_config,
                                  "search.shape-torchvision-resnet")
