"""Pre-activation Wide ResNet for 32x32 inputs (WRN-depth-k, e.g. WRN-28-10: 36,479,194 parameters)."""
from __future__ import annotations

import torch
from torch import nn

from ..errors import ConfigError
from .baseline_common import PooledClassifier, check_num_classes, init_baseline_weights
from .registry import register_model


class WideBasicBlock(nn.Module):
    """BN-ReLU-conv3x3 (strided), BN-ReLU-(dropout)-conv3x3, plus the input or its 1x1 projection."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, dropout: float) -> None:
        super().__init__()
        self.bn_a = nn.BatchNorm2d(in_channels)
        self.conv_a = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn_b = nn.BatchNorm2d(out_channels)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.conv_b = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.relu = nn.ReLU(inplace=False)
        self.projection = None
        if stride != 1 or in_channels != out_channels:
            self.projection = nn.Conv2d(in_channels, out_channels, 1, stride, bias=False)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        activated = self.relu(self.bn_a(inputs))
        residual = self.conv_a(activated)
        residual = self.conv_b(self.dropout(self.relu(self.bn_b(residual))))
        shortcut = inputs if self.projection is None else self.projection(activated)
        return residual + shortcut


class WideResNet(nn.Module):
    """3x3 stem of 16 channels, three stages of width 16k, 32k, 64k, final BN-ReLU, pooling, classifier."""

    def __init__(self, depth: int, wide_factor: int, num_classes: int, dropout: float = 0.0) -> None:
        super().__init__()
        check_num_classes(num_classes, "wide-resnet")
        if not isinstance(depth, int) or depth < 10 or (depth - 4) % 6:
            raise ConfigError(
                f"wide-resnet: depth {depth!r} is invalid; expected depth = 6n + 4 with n >= 1 (e.g. 16, 28, 40)"
            )
        if not isinstance(wide_factor, int) or wide_factor < 1:
            raise ConfigError(f"wide-resnet: wide_factor must be a positive integer, got {wide_factor!r}")
        num_blocks = (depth - 4) // 6
        self.stem = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        layers, channels = [], 16
        for stage, width in enumerate((16 * wide_factor, 32 * wide_factor, 64 * wide_factor)):
            for index in range(num_blocks):
                stride = 2 if stage > 0 and index == 0 else 1
                layers.append(WideBasicBlock(channels, width, stride, dropout))
                channels = width
        self.layers = nn.Sequential(*layers)
        self.final = nn.Sequential(nn.BatchNorm2d(channels), nn.ReLU(inplace=True))
        self.head = PooledClassifier(channels, num_classes)
        init_baseline_weights(self)

    def forward(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.head(self.final(self.layers(self.stem(inputs))))


@register_model("wide-resnet")
def wide_resnet(depth: int = 28, wide_factor: int = 10, num_classes: int = 10, dropout: float = 0.0) -> WideResNet:
    return WideResNet(depth, wide_factor, num_classes, dropout)
