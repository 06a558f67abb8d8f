"""Pieces shared by the baseline classifiers: weight initialisation, the classifier head and the ResNet frame."""
from __future__ import annotations

import torch
from torch import nn

from ..errors import ConfigError


def conv_bn(in_channels: int, out_channels: int, kernel: int, stride: int = 1, groups: int = 1,
            activation: type[nn.Module] | None = None) -> nn.Sequential:
    """A bias-free convolution with 'same' padding, batch normalisation and an optional activation."""
    layers: list[nn.Module] = [
        nn.Conv2d(in_channels, out_channels, kernel, stride, kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(out_channels),
    ]
    if activation is not None:
        layers.append(activation(inplace=True))
    return nn.Sequential(*layers)


def init_baseline_weights(model: nn.Module) -> None:
    """He-normal (fan-out) convolutions, unit-scale zero-shift BN, small-normal linear layers."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, 0.0, 0.01)
            nn.init.zeros_(module.bias)


def check_num_classes(num_classes: int, model: str) -> None:
    """Reject a non-positive class count with a one-line ConfigError."""
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 1:
        raise ConfigError(
            f"{model}: num_classes must be a positive integer, got {num_classes!r}; "
            "pass num_classes=K for a K-class dataset"
        )


class PooledClassifier(nn.Module):
    """Global average pooling, optional dropout and a linear layer; returns ``(features, logits)``."""

    def __init__(self, in_features: int, num_classes: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.classifier = nn.Linear(in_features, num_classes)

    def forward(self, maps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = torch.flatten(self.pool(maps), 1)
        return features, self.classifier(self.dropout(features))


def residual_stages(block_class: type, in_channels: int, widths: list[int] | tuple[int, ...],
                    counts: list[int] | tuple[int, ...], *block_args) -> tuple[nn.Sequential, int]:
    """Stages of residual blocks: ``counts[i]`` blocks of width ``widths[i]``, the first block of every
    stage after the first with stride 2.  Returns the blocks and their output channels."""
    blocks, channels = [], in_channels
    for stage, (planes, count) in enumerate(zip(widths, counts)):
        for index in range(count):
            blocks.append(block_class(channels, planes, 2 if stage > 0 and index == 0 else 1, *block_args))
            channels = planes * block_class.expansion
    return nn.Sequential(*blocks), channels


def zero_init_residuals(blocks: nn.Sequential) -> None:
    """Zero the last BN scale of every residual block, so each block starts as the identity."""
    for block in blocks:
        nn.init.zeros_(block.last_bn.weight)


class ResidualNetwork(nn.Module):
    """``stem``, then the residual blocks ``layers`` (each with a ``last_bn``), then a :class:`PooledClassifier`
    on their ``channels``; initialised by :func:`init_baseline_weights`, and with ``zero_init_residual``
    every block starts as the identity.  Returns ``(features, logits)``."""

    def __init__(self, stem: nn.Module, layers: nn.Sequential, channels: int, num_classes: int,
                 zero_init_residual: bool) -> None:
        super().__init__()
        self.stem = stem
        self.layers = layers
        self.head = PooledClassifier(channels, num_classes)
        init_baseline_weights(self)
        if zero_init_residual:
            zero_init_residuals(self.layers)

    def forward(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.head(self.layers(self.stem(inputs)))
