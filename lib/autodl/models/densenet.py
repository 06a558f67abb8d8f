"""DenseNet(-BC) for 32x32 inputs (DenseNet-BC-100 with growth rate 12: 0.77 M parameters)."""
from __future__ import annotations

import torch
from torch import nn

from ..errors import ConfigError
from .baseline_common import PooledClassifier, check_num_classes, init_baseline_weights
from .registry import register_model


class DenseLayer(nn.Module):
    """BN-ReLU-conv producing ``growth_rate`` maps (BC: a 1x1 conv to 4x growth first), concatenated to the input."""

    def __init__(self, in_channels: int, growth_rate: int, bottleneck: bool) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        if bottleneck:
            inner = 4 * growth_rate
            layers += [nn.BatchNorm2d(in_channels), nn.ReLU(inplace=True),
                       nn.Conv2d(in_channels, inner, 1, bias=False)]
            in_channels = inner
        layers += [nn.BatchNorm2d(in_channels), nn.ReLU(inplace=True),
                   nn.Conv2d(in_channels, growth_rate, 3, 1, 1, bias=False)]
        self.body = nn.Sequential(*layers)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return torch.cat([inputs, self.body(inputs)], dim=1)


class Transition(nn.Sequential):
    """BN-ReLU-1x1 conv compressing the channels, then a 2x2 average pool."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(nn.BatchNorm2d(in_channels), nn.ReLU(inplace=True),
                         nn.Conv2d(in_channels, out_channels, 1, bias=False), nn.AvgPool2d(2))


class DenseNet(nn.Module):
    """3x3 stem, three dense blocks joined by transitions, final BN-ReLU, pooling and a classifier."""

    def __init__(self, depth: int, growth_rate: int, num_classes: int, reduction: float = 0.5,
                 bottleneck: bool = True) -> None:
        super().__init__()
        check_num_classes(num_classes, "densenet")
        layers_per_dense = 6 if bottleneck else 3
        if not isinstance(depth, int) or depth < 4 + layers_per_dense or (depth - 4) % layers_per_dense:
            raise ConfigError(
                f"densenet: depth {depth!r} is invalid; expected depth = {layers_per_dense}n + 4 "
                f"with n >= 1 when bottleneck={bottleneck} (e.g. {'100, 190' if bottleneck else '40, 100'})"
            )
        if not 0.0 < reduction <= 1.0:
            raise ConfigError(f"densenet: reduction must be in (0, 1], got {reduction!r}")
        num_layers = (depth - 4) // layers_per_dense
        channels = 2 * growth_rate if bottleneck else 16
        stages: list[nn.Module] = [nn.Conv2d(3, channels, 3, 1, 1, bias=False)]
        for block in range(3):
            for _ in range(num_layers):
                stages.append(DenseLayer(channels, growth_rate, bottleneck))
                channels += growth_rate
            if block < 2:
                compressed = int(channels * reduction)
                stages.append(Transition(channels, compressed))
                channels = compressed
        stages += [nn.BatchNorm2d(channels), nn.ReLU(inplace=True)]
        self.features = nn.Sequential(*stages)
        self.head = PooledClassifier(channels, num_classes)
        init_baseline_weights(self)

    def forward(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.head(self.features(inputs))


@register_model("densenet")
def densenet(depth: int = 100, growth_rate: int = 12, num_classes: int = 10, reduction: float = 0.5,
             bottleneck: bool = True) -> DenseNet:
    return DenseNet(depth, growth_rate, num_classes, reduction, bottleneck)
