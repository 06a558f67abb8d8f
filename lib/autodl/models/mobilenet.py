"""MobileNetV2 for 224x224 inputs (width 1.0: 3.50 M parameters, 0.300 G multiply-accumulates)."""
from __future__ import annotations

import torch
from torch import nn

from ..errors import ConfigError
from .baseline_common import PooledClassifier, check_num_classes, conv_bn, init_baseline_weights
from .registry import register_model

# (expansion t, output channels c, repeats n, first stride s) of the seven bottleneck stages
INVERTED_RESIDUAL_SETTING = (
    (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1),
)


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round ``value`` to the nearest multiple of ``divisor``, never more than 10% below it."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


class InvertedResidual(nn.Module):
    """Optional 1x1 expansion, depthwise 3x3 (strided), linear 1x1 projection; residual when shapes match."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, expansion: int) -> None:
        super().__init__()
        hidden = int(round(in_channels * expansion))
        layers: list[nn.Module] = []
        if expansion != 1:
            layers.append(conv_bn(in_channels, hidden, 1, activation=nn.ReLU6))
        layers += [conv_bn(hidden, hidden, 3, stride, groups=hidden, activation=nn.ReLU6),
                   nn.Conv2d(hidden, out_channels, 1, bias=False), nn.BatchNorm2d(out_channels)]
        self.body = nn.Sequential(*layers)
        self.use_residual = stride == 1 and in_channels == out_channels

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        outputs = self.body(inputs)
        return inputs + outputs if self.use_residual else outputs


class MobileNetV2(nn.Module):
    """3x3 stride-2 stem, seven inverted-residual stages, a 1x1 conv to ``last_channel``, dropout, classifier."""

    def __init__(self, num_classes: int, width_mult: float = 1.0, dropout: float = 0.2,
                 input_channel: int = 32, last_channel: int = 1280) -> None:
        super().__init__()
        check_num_classes(num_classes, "mobilenet-v2")
        if width_mult <= 0 or not 0.0 <= dropout < 1.0:
            raise ConfigError(
                f"mobilenet-v2: width_mult must be > 0 and dropout in [0, 1), got {width_mult} and {dropout}"
            )
        channels = make_divisible(input_channel * width_mult)
        self.last_channel = make_divisible(last_channel * max(1.0, width_mult))
        layers: list[nn.Module] = [conv_bn(3, channels, 3, 2, activation=nn.ReLU6)]
        for expansion, width, repeats, first_stride in INVERTED_RESIDUAL_SETTING:
            out_channels = make_divisible(width * width_mult)
            for index in range(repeats):
                layers.append(InvertedResidual(channels, out_channels, first_stride if index == 0 else 1, expansion))
                channels = out_channels
        layers.append(conv_bn(channels, self.last_channel, 1, activation=nn.ReLU6))
        self.features = nn.Sequential(*layers)
        self.head = PooledClassifier(self.last_channel, num_classes, dropout)
        init_baseline_weights(self)

    def forward(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.head(self.features(inputs))


@register_model("mobilenet-v2")
def mobilenet_v2(num_classes: int = 1000, width_mult: float = 1.0, dropout: float = 0.2,
                 input_channel: int = 32, last_channel: int = 1280) -> MobileNetV2:
    return MobileNetV2(num_classes, width_mult, dropout, input_channel, last_channel)
