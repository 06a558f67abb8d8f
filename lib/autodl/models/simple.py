"""A small CNN for quick runs on the built-in dataset and for the engine benchmark."""
from __future__ import annotations

import torch
from torch import nn

from .registry import register_model


class SmallCNN(nn.Module):
    """Three conv-BN-ReLU blocks (the last two strided), global pooling and a linear classifier.

    Returns ``(features, logits)`` like every model of the library.
    """

    def __init__(self, num_classes: int = 10, channels: int = 32, in_channels: int = 3) -> None:
        super().__init__()
        widths = [channels, channels * 2, channels * 4]
        layers, previous = [], in_channels
        for index, width in enumerate(widths):
            layers += [nn.Conv2d(previous, width, 3, stride=1 if index == 0 else 2, padding=1, bias=False),
                       nn.BatchNorm2d(width), nn.ReLU(inplace=True)]
            previous = width
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.classifier = nn.Linear(previous, num_classes)

    def forward(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.features(inputs)
        return features, self.classifier(features)


@register_model("small-cnn")
def small_cnn(num_classes: int = 10, channels: int = 32, in_channels: int = 3) -> SmallCNN:
    return SmallCNN(num_classes, channels, in_channels)
