"""NASNet-space inference networks (CIFAR and ImageNet) built from a :class:`~autodl.spaces.nasnet.Genotype`.

Layout: a stem, then ``N`` normal cells, a reduction cell, ``N`` normal cells, a reduction cell and
``N`` normal cells (``3N + 2`` cells), global average pooling and a linear classifier.  An optional
auxiliary classifier (sub-module ``auxiliary_head``) reads the output of the second reduction cell
in training mode.  Drop-path zeroes whole samples of every non-identity op output in training.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

import torch
from torch import nn

from ..errors import ConfigError
from ..spaces.nasnet import GENOTYPES, Genotype, SpaceError, get_genotype
from .ops import FactorizedReduce, ReLUConvBN, build_op
from .registry import register_model

GenotypeLike = str | os.PathLike | Genotype | Mapping[str, Any]
def drop_path(inputs: torch.Tensor, prob: float) -> torch.Tensor:
    """Zero each sample with probability ``prob`` and divide the survivors by ``1 - prob``."""
    keep = 1.0 - prob
    mask = inputs.new_empty(inputs.shape[0], 1, 1, 1).bernoulli_(keep)
    return inputs / keep * mask


class InferCell(nn.Module):
    """One normal or reduction cell; ops are stored by position, so two ops on the same input both exist."""

    def __init__(self, genotype: Genotype, C_prev_prev: int, C_prev: int, C: int,
                 reduction: bool, reduction_prev: bool) -> None:
        super().__init__()
        self.reduction = reduction
        self.preprocess0 = (FactorizedReduce(C_prev_prev, C, 2) if reduction_prev
                            else ReLUConvBN(C_prev_prev, C, 1, 1, 0, 1))
        self.preprocess1 = ReLUConvBN(C_prev, C, 1, 1, 0, 1)
        nodes, self.concat = genotype.cell(reduction)
        self.node_sizes = [len(node) for node in nodes]
        self.inputs = [index for node in nodes for _, index in node]
        self.ops = nn.ModuleList(build_op(op, C, C, 2 if reduction and index < 2 else 1)
                                 for node in nodes for op, index in node)
        self.out_channels = len(self.concat) * C

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, drop_prob: float = 0.0) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        position = 0
        for size in self.node_sizes:
            total = None
            for op, index in zip(self.ops[position:position + size], self.inputs[position:position + size]):
                out = op(states[index])
                if self.training and drop_prob > 0 and not isinstance(op, nn.Identity):
                    out = drop_path(out, drop_prob)
                total = out if total is None else total + out
            states.append(total)
            position += size
        return torch.cat([states[i] for i in self.concat], dim=1)


class AuxiliaryHead(nn.Module):
    """Auxiliary classifier on the 8 x 8 (CIFAR, pool stride 3) or 7 x 7 (ImageNet, stride 2) feature map."""

    def __init__(self, C: int, num_classes: int, pool_stride: int, second_bn: bool) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.AvgPool2d(5, stride=pool_stride, padding=0, count_include_pad=False),
            nn.Conv2d(C, 128, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU(inplace=True),
            nn.Conv2d(128, 768, 2, bias=False),
            *([nn.BatchNorm2d(768)] if second_bn else []), nn.ReLU(inplace=True),
        )
        self.classifier = nn.Linear(768, num_classes)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        if min(inputs.shape[-2:]) < 5:
            raise ConfigError(f"the auxiliary head got a {tuple(inputs.shape[-2:])} feature map, too small for its "
                              "5x5 pooling; use 32x32 (CIFAR, digits) or 224x224 (ImageNet) inputs, or a model config with "
                              '"auxiliary": false')
        return self.classifier(self.features(inputs).flatten(1))


class NASNetInferNetwork(nn.Module):
    """A NASNet-space network: stem, ``3N + 2`` cells, global pooling, linear; returns ``(features, logits)``.

    In training mode with an auxiliary head the output is ``(features, (logits, aux_logits))``.
    ``drop_path_prob`` is the current drop-path probability (0 until the engine sets it each epoch)
    and ``drop_path_max`` the configured maximum.
    """

    def __init__(self, genotype: Genotype, C: int, N: int, stem: nn.Module, stem_channels: int,
                 first_reduction_prev: bool, auxiliary: bool, aux_stride: int, aux_second_bn: bool,
                 drop_path_prob: float, num_classes: int) -> None:
        super().__init__()
        self.genotype = genotype
        self.drop_path_max = float(drop_path_prob)
        self.drop_path_prob = 0.0
        self.stem = stem
        C_prev_prev = C_prev = stem_channels
        reductions = [False] * N + [True] + [False] * N + [True] + [False] * N
        reduction_prev, C_curr = first_reduction_prev, C
        self.cells = nn.ModuleList()
        self.aux_index = 2 * N + 1
        self.auxiliary_head: AuxiliaryHead | None = None
        for index, reduction in enumerate(reductions):
            if reduction:
                C_curr *= 2
            cell = InferCell(genotype, C_prev_prev, C_prev, C_curr, reduction, reduction_prev)
            self.cells.append(cell)
            C_prev_prev, C_prev, reduction_prev = C_prev, cell.out_channels, reduction
            if index == self.aux_index and auxiliary:
                self.auxiliary_head = AuxiliaryHead(C_prev, num_classes, aux_stride, aux_second_bn)
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(C_prev, num_classes)

    def _stem(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.stem(inputs)
        return out, out

    def forward(self, inputs: torch.Tensor):
        s0, s1 = self._stem(inputs)
        aux_logits = None
        for index, cell in enumerate(self.cells):
            s0, s1 = s1, cell(s0, s1, self.drop_path_prob)
            if index == self.aux_index and self.auxiliary_head is not None and self.training:
                aux_logits = self.auxiliary_head(s1)
        features = self.global_pooling(s1).flatten(1)
        logits = self.classifier(features)
        if aux_logits is not None:
            return features, (logits, aux_logits)
        return features, logits


class ImageNetStem(nn.Module):
    """Two stride-2 stems: ``stem0`` (two 3 x 3 stride-2 convs, to 1/4 resolution) and ``stem1`` (to 1/8)."""

    def __init__(self, C: int) -> None:
        super().__init__()
        self.stem0 = nn.Sequential(
            nn.Conv2d(3, C // 2, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(C // 2), nn.ReLU(inplace=True),
            nn.Conv2d(C // 2, C, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(C),
        )
        self.stem1 = nn.Sequential(
            nn.ReLU(inplace=False), nn.Conv2d(C, C, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(C),
        )

    def forward(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        s0 = self.stem0(inputs)
        return s0, self.stem1(s0)


class NASNetImageNet(NASNetInferNetwork):
    """The ImageNet variant: the two-part stem feeds the first cell two inputs at 1/4 and 1/8 resolution."""

    def _stem(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.stem(inputs)


def resolve_genotype(genotype: GenotypeLike) -> Genotype:
    """A Genotype from a published name, a Genotype, a genotype dict, or the path of an architecture artifact."""
    if isinstance(genotype, Genotype):
        return genotype
    if isinstance(genotype, Mapping):
        return Genotype.from_dict(genotype)
    if isinstance(genotype, str) and genotype in GENOTYPES:
        return get_genotype(genotype)
    if isinstance(genotype, (str, os.PathLike)):
        if not Path(genotype).is_file():
            raise SpaceError(f"genotype {str(genotype)!r} is neither a published genotype name nor an existing "
                             f"artifact file; use one of {', '.join(GENOTYPES)}, a genotype dict or an artifact path")
        from ..spaces.artifact import load_artifact

        artifact = load_artifact(genotype)
        if not isinstance(artifact.arch, Genotype):
            raise SpaceError(f"{genotype}: the artifact holds a {artifact.space!r} architecture; "
                             "a nasnet-* network needs an artifact of space 'nasnet'")
        return artifact.arch
    raise ConfigError(f"genotype {genotype!r} has type {type(genotype).__name__}; expected a published "
                      "genotype name, a Genotype, a genotype dict or an artifact path")


def _check_sizes(C: int, N: int, stem_multiplier: int = 1) -> None:
    for key, value in (("C", C), ("N", N), ("stem_multiplier", stem_multiplier)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{key}={value!r} is invalid; expected a positive integer")


def _check_drop_path(drop_path_prob: float) -> None:
    if not 0.0 <= drop_path_prob < 1.0:
        raise ConfigError(f"drop_path_prob={drop_path_prob!r} is invalid; expected a probability in [0, 1)")


@register_model("nasnet-cifar")
def nasnet_cifar(genotype: GenotypeLike, C: int = 36, N: int = 6, stem_multiplier: int = 3,
                 auxiliary: bool = True, drop_path_prob: float = 0.2, num_classes: int = 10) -> NASNetInferNetwork:
    """The CIFAR network: a 3 x 3 stem conv to ``stem_multiplier * C`` channels, cells at 32, 16, 8 pixels."""
    _check_sizes(C, N, stem_multiplier)
    _check_drop_path(drop_path_prob)
    stem_channels = stem_multiplier * C
    stem = nn.Sequential(nn.Conv2d(3, stem_channels, 3, padding=1, bias=False), nn.BatchNorm2d(stem_channels))
    return NASNetInferNetwork(resolve_genotype(genotype), C, N, stem, stem_channels, False, auxiliary,
                              aux_stride=3, aux_second_bn=True, drop_path_prob=drop_path_prob,
                              num_classes=num_classes)


@register_model("nasnet-imagenet")
def nasnet_imagenet(genotype: GenotypeLike, C: int = 48, N: int = 4, auxiliary: bool = True,
                    drop_path_prob: float = 0.0, num_classes: int = 1000) -> NASNetImageNet:
    """The ImageNet network (224 x 224 inputs): a two-part stride-8 stem, cells at 28, 14, 7 pixels."""
    _check_sizes(C, N)
    _check_drop_path(drop_path_prob)
    return NASNetImageNet(resolve_genotype(genotype), C, N, ImageNetStem(C), C, True, auxiliary,
                          aux_stride=2, aux_second_bn=False, drop_path_prob=drop_path_prob,
                          num_classes=num_classes)
