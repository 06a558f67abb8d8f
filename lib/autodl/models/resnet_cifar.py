"""Post-activation ResNets for 32x32 inputs (ResNet-8/20/32/56/110 basic, ResNet-164/1001 bottleneck).

Three stages of 16, 32 and 64 base channels on a 3x3 stem; stride-2 shortcuts are a 2x2
average pool followed by a 1x1 convolution (no BN), other width changes a 1x1 convolution + BN.
These choices reproduce the original's parameter counts exactly (ResNet-20, 10 classes: 272,282).
"""
from __future__ import annotations

import torch
from torch import nn

from ..errors import ConfigError
from .baseline_common import ResidualNetwork, conv_bn, check_num_classes, residual_stages
from .registry import register_model

STAGE_WIDTHS = (16, 32, 64)


def cifar_shortcut(in_channels: int, out_channels: int, stride: int) -> nn.Module:
    """Identity, a 1x1 conv + BN for a width change, or 2x2 avg-pool + 1x1 conv for a stride-2 block."""
    if stride == 2:
        return nn.Sequential(nn.AvgPool2d(2, 2), nn.Conv2d(in_channels, out_channels, 1, bias=False))
    if in_channels != out_channels:
        return conv_bn(in_channels, out_channels, 1)
    return nn.Identity()


class CifarBasicBlock(nn.Module):
    """Two 3x3 conv-BN layers with a ReLU between them and after the residual addition."""

    expansion = 1

    def __init__(self, in_channels: int, planes: int, stride: int) -> None:
        super().__init__()
        self.conv_a = conv_bn(in_channels, planes, 3, stride)
        self.conv_b = conv_bn(planes, planes, 3)
        self.shortcut = cifar_shortcut(in_channels, planes, stride)
        self.relu = nn.ReLU(inplace=True)

    @property
    def last_bn(self) -> nn.BatchNorm2d:
        return self.conv_b[1]

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        residual = self.conv_b(self.relu(self.conv_a(inputs)))
        return self.relu(residual + self.shortcut(inputs))


class CifarBottleneck(nn.Module):
    """1x1 reduce, 3x3 (strided), 1x1 expand by 4, each conv-BN, ReLUs between and after the addition."""

    expansion = 4

    def __init__(self, in_channels: int, planes: int, stride: int) -> None:
        super().__init__()
        out_channels = planes * self.expansion
        self.conv_1x1 = conv_bn(in_channels, planes, 1)
        self.conv_3x3 = conv_bn(planes, planes, 3, stride)
        self.conv_expand = conv_bn(planes, out_channels, 1)
        self.shortcut = cifar_shortcut(in_channels, out_channels, stride)
        self.relu = nn.ReLU(inplace=True)

    @property
    def last_bn(self) -> nn.BatchNorm2d:
        return self.conv_expand[1]

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        residual = self.relu(self.conv_1x1(inputs))
        residual = self.conv_expand(self.relu(self.conv_3x3(residual)))
        return self.relu(residual + self.shortcut(inputs))


BLOCKS = {"basic": (CifarBasicBlock, 6), "bottleneck": (CifarBottleneck, 9)}


def blocks_per_stage(depth: int, block: str) -> int:
    """Blocks in each of the three stages: (depth - 2) / 6 for basic, (depth - 2) / 9 for bottleneck."""
    if block not in BLOCKS:
        raise ConfigError(f"cifar-resnet: unknown block {block!r}; expected 'basic' or 'bottleneck'")
    layers_per_block = BLOCKS[block][1]
    if not isinstance(depth, int) or depth < 2 + layers_per_block or (depth - 2) % layers_per_block:
        raise ConfigError(
            f"cifar-resnet: depth {depth!r} is invalid for {block} blocks; expected depth = "
            f"{layers_per_block}n + 2 (e.g. {'20, 56, 110' if block == 'basic' else '164, 1001'}) with n >= 1"
        )
    return (depth - 2) // layers_per_block


class CifarResNet(ResidualNetwork):
    """3x3 stem, three stages (strides 1, 2, 2), global pooling and a linear classifier."""

    def __init__(self, depth: int, num_classes: int, block: str = "basic", zero_init_residual: bool = False) -> None:
        check_num_classes(num_classes, "cifar-resnet")
        num_blocks = blocks_per_stage(depth, block)
        stem = nn.Sequential(conv_bn(3, STAGE_WIDTHS[0], 3), nn.ReLU(inplace=True))
        layers, channels = residual_stages(BLOCKS[block][0], STAGE_WIDTHS[0], STAGE_WIDTHS,
                                           [num_blocks] * len(STAGE_WIDTHS))
        super().__init__(stem, layers, channels, num_classes, zero_init_residual)
        self.depth, self.block = depth, block


@register_model("cifar-resnet")
def cifar_resnet(depth: int, num_classes: int = 10, block: str = "basic",
                 zero_init_residual: bool = False) -> CifarResNet:
    return CifarResNet(depth, num_classes, block, zero_init_residual)
