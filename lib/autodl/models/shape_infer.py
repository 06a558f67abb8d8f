"""Networks of a searched shape (TAS): ResNets and MobileNetV2 with a width per convolution and a depth per stage.

A shape is ``xchannels`` (the input channels, then the output width of every convolution of the
full network, in order: stem, then each block's convolutions) and ``xblocks`` (blocks kept per
stage).  Blocks beyond ``xblocks[stage]`` are dropped, but their entries stay in ``xchannels``; the
next kept block then takes the output of the last kept one.  Wherever a block's input and output
widths differ, its shortcut becomes a projection, as in the original's inference networks: on
CIFAR a 2x2 average pool + 1x1 convolution at stride 2, a 1x1 convolution + BN (basic blocks) or a
bare 1x1 convolution (bottlenecks) at stride 1; on ImageNet the projection always has a BN.

``xchannels`` missing means the base widths (a depth-only shape), ``xblocks`` missing means every
block (a width-only shape).  ``estimated_FLOP`` is the search's own estimate (MFLOPs), kept on the
model as ``estimated_flops``; the counted FLOPs of the built network differ from it whenever a
stage was shortened.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from ..errors import ConfigError
from .baseline_common import PooledClassifier, ResidualNetwork, check_num_classes, conv_bn, init_baseline_weights
from .mobilenet import INVERTED_RESIDUAL_SETTING
from .registry import register_model
from .resnet_cifar import STAGE_WIDTHS as CIFAR_WIDTHS
from .resnet_cifar import blocks_per_stage, cifar_shortcut
from .resnet_imagenet import STAGE_WIDTHS as IMAGENET_WIDTHS
from .resnet_imagenet import imagenet_shortcut

# per block kind: the kernel of each convolution, which one is strided, and the output expansion
BLOCK_LAYOUTS = {"basic": ((3, 3), 0, 1), "bottleneck": ((1, 3, 1), 1, 4)}


class ShapeBlock(nn.Module):
    """A residual block with one width per convolution: conv-BN(-ReLU) layers, the shortcut, ReLU after the sum."""

    def __init__(self, channels: Sequence[int], kernels: Sequence[int], stride_at: int, stride: int,
                 shortcut: nn.Module) -> None:
        super().__init__()
        last = len(kernels) - 1
        self.body = nn.Sequential(*[
            conv_bn(c_in, c_out, kernel, stride if i == stride_at else 1, activation=None if i == last else nn.ReLU)
            for i, (c_in, c_out, kernel) in enumerate(zip(channels[:-1], channels[1:], kernels))])
        self.shortcut = shortcut
        self.relu = nn.ReLU(inplace=True)

    @property
    def last_bn(self) -> nn.BatchNorm2d:
        return self.body[-1][1]

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.relu(self.body(inputs) + self.shortcut(inputs))


def full_xchannels(stem: Sequence[int], widths: Sequence[int], counts: Sequence[int], block: str) -> list[int]:
    """The ``xchannels`` of the unpruned network: 3, the stem widths, then every block's conv widths."""
    kernels, _, expansion = BLOCK_LAYOUTS[block]
    inner = [1] * (len(kernels) - 1) + [expansion]
    return [3, *stem] + [w * f for w, n in zip(widths, counts) for _ in range(n) for f in inner]


def kept_blocks(xchannels: Sequence[int], xblocks: Sequence[int], counts: Sequence[int], num_convs: int,
                first: int, model: str) -> tuple[list[tuple[int, int, list[int]]], int]:
    """``(stage, index, [c_in, c_1, ..., c_out])`` of every kept block, and the last output width.

    ``first`` is the index in ``xchannels`` of the stem's output; a kept block's input is the output of
    the previous kept block (so a dropped block's widths are skipped, as in the original).
    """
    expected = first + 1 + num_convs * sum(counts)
    if len(xchannels) != expected or not all(isinstance(c, int) and c >= 1 for c in xchannels):
        raise ConfigError(f"{model}: xchannels must hold {expected} positive widths (input, stem, {num_convs} per block "
                          f"for {sum(counts)} blocks), got {len(xchannels)} entries; use a config written by the search")
    if len(xblocks) != len(counts) or not all(isinstance(b, int) and 1 <= b <= n for b, n in zip(xblocks, counts)):
        raise ConfigError(f"{model}: xblocks must give 1..{list(counts)} blocks per stage, got {list(xblocks)}")
    plan, cursor, current = [], first, xchannels[first]
    for stage, (count, keep) in enumerate(zip(counts, xblocks)):
        for index in range(count):
            widths = list(xchannels[cursor + 1:cursor + 1 + num_convs])
            if index < keep:
                plan.append((stage, index, [current, *widths]))
                current = widths[-1]
            cursor += num_convs
    return plan, current


class ShapeResNet(ResidualNetwork):
    """A CIFAR or ImageNet ResNet of a searched shape; returns ``(features, logits)``."""

    def __init__(self, stem: nn.Module, blocks: list[nn.Module], channels: int, num_classes: int,
                 zero_init_residual: bool, estimated_flops: float | None) -> None:
        super().__init__(stem, nn.Sequential(*blocks), channels, num_classes, zero_init_residual)
        self.estimated_flops = estimated_flops


def _check_block(block: str, model: str) -> None:
    if block not in BLOCK_LAYOUTS:
        raise ConfigError(f"{model}: unknown block {block!r}; expected 'basic' or 'bottleneck'")


def _shortcut_cifar(c_in: int, c_out: int, stride: int, block: str) -> nn.Module:
    if stride == 1 and c_in != c_out and block == "bottleneck":
        return nn.Conv2d(c_in, c_out, 1, bias=False)
    return cifar_shortcut(c_in, c_out, stride)


@register_model("shape-cifar-resnet")
def shape_cifar_resnet(depth: int, block: str = "basic", xchannels: list[int] | None = None,
                       xblocks: list[int] | None = None, num_classes: int = 10, zero_init_residual: bool = False,
                       estimated_FLOP: float | None = None) -> ShapeResNet:
    """A CIFAR ResNet (3x3 stem, stages of 16/32/64 base width) of a searched shape (configs/NeurIPS-2019)."""
    model = "shape-cifar-resnet"
    check_num_classes(num_classes, model)
    _check_block(block, model)
    count = blocks_per_stage(depth, block)
    counts = [count] * len(CIFAR_WIDTHS)
    kernels, stride_at, _ = BLOCK_LAYOUTS[block]
    xchannels = list(xchannels) if xchannels is not None else full_xchannels([CIFAR_WIDTHS[0]], CIFAR_WIDTHS, counts, block)
    xblocks = list(xblocks) if xblocks is not None else counts
    plan, channels = kept_blocks(xchannels, xblocks, counts, len(kernels), 1, model)
    stem = conv_bn(xchannels[0], xchannels[1], 3, activation=nn.ReLU)
    blocks = []
    for stage, index, widths in plan:
        stride = 2 if stage > 0 and index == 0 else 1
        blocks.append(ShapeBlock(widths, kernels, stride_at, stride, _shortcut_cifar(widths[0], widths[-1], stride, block)))
    return ShapeResNet(stem, blocks, channels, num_classes, zero_init_residual, estimated_FLOP)


@register_model("shape-imagenet-resnet")
def shape_imagenet_resnet(block: str, layers: list[int], xchannels: list[int] | None = None,
                          xblocks: list[int] | None = None, num_classes: int = 1000, zero_init_residual: bool = False,
                          estimated_FLOP: float | None = None) -> ShapeResNet:
    """An ImageNet ResNet (7x7 stride-2 stem, max-pool, four stages) of a searched shape."""
    model = "shape-imagenet-resnet"
    check_num_classes(num_classes, model)
    _check_block(block, model)
    if not isinstance(layers, (list, tuple)) or len(layers) != 4 or not all(isinstance(n, int) and n >= 1 for n in layers):
        raise ConfigError(f"{model}: layers must be four positive block counts, got {layers!r}; e.g. [3, 4, 6, 3]")
    kernels, stride_at, _ = BLOCK_LAYOUTS[block]
    xchannels = list(xchannels) if xchannels is not None else full_xchannels([64], IMAGENET_WIDTHS, layers, block)
    xblocks = list(xblocks) if xblocks is not None else list(layers)
    plan, channels = kept_blocks(xchannels, xblocks, layers, len(kernels), 1, model)
    stem = nn.Sequential(conv_bn(xchannels[0], xchannels[1], 7, 2, activation=nn.ReLU), nn.MaxPool2d(3, 2, 1))
    blocks = []
    for stage, index, widths in plan:
        stride = 2 if stage > 0 and index == 0 else 1
        blocks.append(ShapeBlock(widths, kernels, stride_at, stride, imagenet_shortcut(widths[0], widths[-1], stride)))
    return ShapeResNet(stem, blocks, channels, num_classes, zero_init_residual, estimated_FLOP)


# ------------------------------------------------------------------------------------------ MobileNetV2

def parse_mobilenet_channels(text: str) -> list[list[int]]:
    """``"3-32 32-16 16-96-24 ... 320-1280"`` -> [[3, 32], [32, 16], [16, 96, 24], ..., [320, 1280]]."""
    try:
        groups = [[int(c) for c in item.split("-")] for item in str(text).split()]
    except ValueError:
        groups = []
    if not groups or any(c < 1 for group in groups for c in group):
        raise ConfigError(f"shape-mobilenet-v2: xchannels must be groups of positive widths joined by '-' and separated "
                          f"by spaces (e.g. '3-32 32-16 16-96-24 ...'), got {text!r}")
    return groups


class ShapeInvertedResidual(nn.Module):
    """Optional 1x1 expansion, depthwise 3x3, linear 1x1 projection, with the widths given.

    A block after the first of its stage adds its input back: directly when the widths agree, through
    a 1x1 convolution + BN when they do not.
    """

    def __init__(self, channels: Sequence[int], stride: int, residual: bool) -> None:
        super().__init__()
        hidden, out_channels = channels[-2], channels[-1]
        layers: list[nn.Module] = []
        if len(channels) == 3:
            layers.append(conv_bn(channels[0], hidden, 1, activation=nn.ReLU6))
        layers += [conv_bn(hidden, hidden, 3, stride, groups=hidden, activation=nn.ReLU6), conv_bn(hidden, out_channels, 1)]
        self.body = nn.Sequential(*layers)
        self.residual = residual
        self.shortcut = conv_bn(channels[0], out_channels, 1) if residual and channels[0] != out_channels else nn.Identity()

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        outputs = self.body(inputs)
        return outputs + self.shortcut(inputs) if self.residual else outputs


class ShapeMobileNetV2(nn.Module):
    """MobileNetV2 with given widths and blocks per stage; returns ``(features, logits)``."""

    def __init__(self, xchannels: str, xblocks: list[int], num_classes: int, dropout: float) -> None:
        super().__init__()
        model = "shape-mobilenet-v2"
        check_num_classes(num_classes, model)
        groups = parse_mobilenet_channels(xchannels)
        counts = [n for _, _, n, _ in INVERTED_RESIDUAL_SETTING]
        if len(groups) != sum(counts) + 2 or any(len(g) != 2 for g in (groups[0], groups[-1])):
            raise ConfigError(f"{model}: xchannels must hold {sum(counts) + 2} groups (stem, one per block, last conv), "
                              f"got {len(groups)}")
        if len(xblocks) != len(counts) or not all(isinstance(b, int) and 1 <= b <= n for b, n in zip(xblocks, counts)):
            raise ConfigError(f"{model}: xblocks must give 1..{counts} blocks per stage, got {xblocks}")
        layers: list[nn.Module] = [conv_bn(groups[0][0], groups[0][1], 3, 2, activation=nn.ReLU6)]
        current, cursor = groups[0][1], 1
        for (_, _, count, first_stride), keep in zip(INVERTED_RESIDUAL_SETTING, xblocks):
            for index in range(count):
                if index < keep:
                    group = groups[cursor]
                    if len(group) not in (2, 3):
                        raise ConfigError(f"{model}: block {cursor} has {len(group)} widths {group}; expected 2 or 3")
                    layers.append(ShapeInvertedResidual([current, *group[1:]], first_stride if index == 0 else 1, index > 0))
                    current = group[-1]
                cursor += 1
        layers.append(conv_bn(current, groups[-1][1], 1, activation=nn.ReLU6))
        self.features = nn.Sequential(*layers)
        self.head = PooledClassifier(groups[-1][1], num_classes, dropout)
        init_baseline_weights(self)

    def forward(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.head(self.features(inputs))


@register_model("shape-mobilenet-v2")
def shape_mobilenet_v2(xchannels: str, xblocks: list[int], num_classes: int = 1000,
                       dropout: float = 0.2) -> ShapeMobileNetV2:
    return ShapeMobileNetV2(xchannels, xblocks, num_classes, dropout)
