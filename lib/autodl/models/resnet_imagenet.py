"""ImageNet ResNets and ResNeXts (ResNet-18/34/50/101/152/200, ResNeXt-50 32x4d).

``deep_stem=False`` ("V1" configs) is the 7x7 stride-2 stem; ``deep_stem=True`` ("V2") is three
3x3 convolutions (32, 32, 64 channels, the first strided).  Both are followed by a 3x3 max-pool.
Every stride-2 shortcut is a 2x2 average pool + 1x1 convolution + BN; a width change at stride 1
is a 1x1 convolution + BN.  ``zero_init_residual`` zeroes the last BN scale of every block.
"""
from __future__ import annotations

import torch
from torch import nn

from ..errors import ConfigError
from .baseline_common import ResidualNetwork, conv_bn, check_num_classes, residual_stages
from .registry import register_model

STAGE_WIDTHS = (64, 128, 256, 512)


def imagenet_shortcut(in_channels: int, out_channels: int, stride: int) -> nn.Module:
    """Identity, 1x1 conv + BN, or (stride 2) 2x2 average pool + 1x1 conv + BN."""
    if stride == 1 and in_channels == out_channels:
        return nn.Identity()
    projection = conv_bn(in_channels, out_channels, 1)
    return nn.Sequential(nn.AvgPool2d(2, 2), *projection) if stride == 2 else projection


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers (the first strided) with ReLUs; the base width must be 64, groups 1."""

    expansion = 1

    def __init__(self, in_channels: int, planes: int, stride: int, groups: int, width_per_group: int) -> None:
        super().__init__()
        if groups != 1 or width_per_group != 64:
            raise ConfigError(
                f"imagenet-resnet: basic blocks need groups=1 and width_per_group=64, got {groups} and "
                f"{width_per_group}; use block 'bottleneck' for ResNeXt widths"
            )
        self.conv_a = conv_bn(in_channels, planes, 3, stride, activation=nn.ReLU)
        self.conv_b = conv_bn(planes, planes, 3)
        self.shortcut = imagenet_shortcut(in_channels, planes, stride)
        self.relu = nn.ReLU(inplace=True)

    @property
    def last_bn(self) -> nn.BatchNorm2d:
        return self.conv_b[1]

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.relu(self.conv_b(self.conv_a(inputs)) + self.shortcut(inputs))


class Bottleneck(nn.Module):
    """1x1 reduce, grouped 3x3 (strided), 1x1 expand by 4; inner width = planes * width_per_group / 64 * groups."""

    expansion = 4

    def __init__(self, in_channels: int, planes: int, stride: int, groups: int, width_per_group: int) -> None:
        super().__init__()
        inner = int(planes * (width_per_group / 64.0)) * groups
        out_channels = planes * self.expansion
        self.conv_reduce = conv_bn(in_channels, inner, 1, activation=nn.ReLU)
        self.conv_3x3 = conv_bn(inner, inner, 3, stride, groups=groups, activation=nn.ReLU)
        self.conv_expand = conv_bn(inner, out_channels, 1)
        self.shortcut = imagenet_shortcut(in_channels, out_channels, stride)
        self.relu = nn.ReLU(inplace=True)

    @property
    def last_bn(self) -> nn.BatchNorm2d:
        return self.conv_expand[1]

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        residual = self.conv_expand(self.conv_3x3(self.conv_reduce(inputs)))
        return self.relu(residual + self.shortcut(inputs))


BLOCKS = {"basic": BasicBlock, "bottleneck": Bottleneck}


class ImageNetResNet(ResidualNetwork):
    """Stem, max-pool, four stages (strides 1, 2, 2, 2) of ``layers[i]`` blocks, pooling and a classifier."""

    def __init__(self, block: str, layers: list[int], num_classes: int, deep_stem: bool = False,
                 zero_init_residual: bool = False, groups: int = 1, width_per_group: int = 64) -> None:
        check_num_classes(num_classes, "imagenet-resnet")
        if block not in BLOCKS:
            raise ConfigError(f"imagenet-resnet: unknown block {block!r}; expected 'basic' or 'bottleneck'")
        if (not isinstance(layers, (list, tuple)) or len(layers) != 4
                or not all(isinstance(n, int) and n >= 1 for n in layers)):
            raise ConfigError(
                f"imagenet-resnet: layers must be four positive block counts, got {layers!r}; e.g. [3, 4, 6, 3]"
            )
        if groups < 1 or width_per_group < 1:
            raise ConfigError(
                f"imagenet-resnet: groups and width_per_group must be >= 1, got {groups} and {width_per_group}"
            )
        if deep_stem:
            stem = [conv_bn(3, 32, 3, 2, activation=nn.ReLU), conv_bn(32, 32, 3, activation=nn.ReLU),
                    conv_bn(32, 64, 3, activation=nn.ReLU)]
        else:
            stem = [conv_bn(3, 64, 7, 2, activation=nn.ReLU)]
        blocks, channels = residual_stages(BLOCKS[block], 64, STAGE_WIDTHS, layers, groups, width_per_group)
        super().__init__(nn.Sequential(*stem, nn.MaxPool2d(3, 2, 1)), blocks, channels, num_classes, zero_init_residual)


@register_model("imagenet-resnet")
def imagenet_resnet(block: str, layers: list[int], num_classes: int = 1000, deep_stem: bool = False,
                    zero_init_residual: bool = False, groups: int = 1, width_per_group: int = 64) -> ImageNetResNet:
    return ImageNetResNet(block, layers, num_classes, deep_stem, zero_init_residual, groups, width_per_group)
