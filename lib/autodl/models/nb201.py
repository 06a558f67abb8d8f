"""The NAS-Bench-201 inference network ("TinyNetwork", ``infer.tiny``): a fixed cell stacked in 3 stages."""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from ..errors import ConfigError
from ..spaces.nb201 import EDGES, NUM_NODES, Arch, ArchLike, as_arch
from .ops import ResNetBasicblock, build_op
from .registry import register_model


class InferCell(nn.Module):
    """One NB201 cell: node i sums its edge ops over nodes 0..i-1; the output is the last node.

    Edges leaving the input node map ``C_in -> C_out`` with ``stride``; the others map ``C_out -> C_out``.
    """

    def __init__(self, arch: Arch, C_in: int, C_out: int, stride: int = 1) -> None:
        super().__init__()
        self.arch = arch
        self.edges = nn.ModuleList(
            build_op(op, C_in, C_out, stride, True, True) if source == 0
            else build_op(op, C_out, C_out, 1, True, True)
            for (_, source), op in zip(EDGES, arch.to_ops())
        )
        self.in_dim, self.out_dim, self.stride = C_in, C_out, stride

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        nodes = [inputs]
        edge = 0
        for to in range(1, NUM_NODES):
            total = self.edges[edge](nodes[0])
            for source in range(1, to):
                total = total + self.edges[edge + source](nodes[source])
            edge += to
            nodes.append(total)
        return nodes[-1]

    def extra_repr(self) -> str:
        return f"C_in={self.in_dim}, C_out={self.out_dim}, stride={self.stride}, arch={self.arch}"


def nb201_cells(C: int, N: int, normal_cell: Callable[[int], nn.Module]) -> nn.ModuleList:
    """The cells of the NB201 macro network, built in order: ``normal_cell(width)`` N times at width C, a ResNet
    reduction to 2C, N cells at 2C, a reduction to 4C, N cells at 4C."""
    cells: list[nn.Module] = []
    for stage, width in enumerate((C, 2 * C, 4 * C)):
        if stage > 0:
            cells.append(ResNetBasicblock(width // 2, width, 2, True, True))
        cells.extend(normal_cell(width) for _ in range(N))
    return nn.ModuleList(cells)


class TinyNetwork(nn.Module):
    """Stem, then N cells at C, a ResNet reduction to 2C, N cells, a reduction to 4C, N cells, and a head.

    The stem is a 3 x 3 conv + BN (no ReLU: every op starts with one); the head is BN + ReLU, global
    average pooling and a linear classifier.  ``forward`` returns ``(pooled features, logits)``.
    """

    def __init__(self, C: int, N: int, arch: ArchLike, num_classes: int) -> None:
        super().__init__()
        self.arch = as_arch(arch)
        self.C, self.N, self.num_classes = C, N, num_classes
        self.stem = nn.Sequential(nn.Conv2d(3, C, 3, padding=1, bias=False), nn.BatchNorm2d(C))
        self.cells = nb201_cells(C, N, lambda width: InferCell(self.arch, width, width, 1))
        self.lastact = nn.Sequential(nn.BatchNorm2d(4 * C), nn.ReLU(inplace=True))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(4 * C, num_classes)

    def forward(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.stem(inputs)
        for cell in self.cells:
            features = cell(features)
        features = self.global_pooling(self.lastact(features)).flatten(1)
        return features, self.classifier(features)

    def extra_repr(self) -> str:
        return f"C={self.C}, N={self.N}, num_classes={self.num_classes}, arch={self.arch}"


@register_model("infer.tiny")
def infer_tiny(C: int = 16, N: int = 5, num_classes: int = 10,
               arch_str: ArchLike | None = None, genotype: ArchLike | None = None) -> TinyNetwork:
    """The NB201 network of one cell given as ``arch_str`` or ``genotype`` (an Arch or its string)."""
    if (arch_str is None) == (genotype is None):
        raise ConfigError("infer.tiny needs exactly one of 'arch_str' or 'genotype' (the NB201 cell string); "
                          "give one and remove the other")
    return TinyNetwork(C, N, arch_str if genotype is None else genotype, num_classes)
