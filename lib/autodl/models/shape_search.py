"""Shape-searchable ResNets of TAS (Dong & Yang, NeurIPS 2019): a width per convolution, a depth per stage.

Every searched convolution has candidate widths ``floor(r * C)`` for r = 0.3, 0.4, ..., 1.0
(de-duplicated) and one BN per candidate.  Under sampling (:meth:`ShapeSearchResNet.sampling`) each
convolution draws **two distinct** candidates from its Gumbel-perturbed distribution, computes the
convolution once (cut to the wider one), normalises each cut with its own BN, resizes both to the wider
width by channel-wise interpolation (adaptive average pooling over the channels) and mixes them with the
softmax of their two perturbed logits.  Each stage aggregates the outputs after each candidate block
count with Gumbel-softmax weights.  Outside sampling the model is the plain full network (full-width BNs).

:meth:`ShapeSearchResNet.expected_mflops` is the differentiable FLOP estimate (expected widths under
the softmax; a block's FLOPs weighted by the probability that the stage keeps it), and
:func:`flop_loss` the asymmetric FLOP-target loss.  :meth:`ShapeSearchResNet.shape_config` writes the
argmax shape as a config that :func:`~autodl.models.create_model` builds (``shape-cifar-resnet`` /
``shape-imagenet-resnet``).  Modes: ``width`` (depth fixed), ``depth`` (widths fixed) or ``shape``.
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, Iterator, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError
from .baseline_common import check_num_classes, init_baseline_weights
from .registry import register_model
from .resnet_cifar import STAGE_WIDTHS as CIFAR_WIDTHS
from .resnet_cifar import blocks_per_stage
from .resnet_imagenet import STAGE_WIDTHS as IMAGENET_WIDTHS
from .shape_infer import BLOCK_LAYOUTS

WIDTH_RATIOS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
SEARCH_MODES = ("width", "depth", "shape")
GUMBEL_FLOOR = 1e-20  # smallest exponential draw: keeps every Gumbel sample finite


def width_choices(channels: int) -> tuple[int, ...]:
    """Candidate widths of a convolution with ``channels`` outputs: floor(r * channels) for each ratio, de-duplicated."""
    return tuple(sorted({int(channels * ratio) for ratio in WIDTH_RATIOS} - {0}))


def depth_choices(blocks: int) -> tuple[int, ...]:
    """Candidate block counts of a CIFAR stage: 1, 3, 5, ... and the full count (all counts up to 3)."""
    if blocks <= 3:
        return tuple(range(1, blocks + 1))
    choices = list(range(1, blocks + 1, 2))
    if choices[-1] != blocks:
        choices.append(blocks)
    return tuple(choices)


def imagenet_depth_choices(layers: Sequence[int]) -> list[tuple[int, ...]]:
    """ImageNet stages share m = min(layers) candidates: a stage of d blocks offers floor(d * j / m), j = 1..m."""
    fewest = min(layers)
    return [tuple(int(float(d) * j / fewest) for j in range(1, fewest + 1)) for d in layers]


def channel_interpolate(inputs: torch.Tensor, width: int) -> torch.Tensor:
    """Resize ``inputs`` (N, C, H, W) to ``width`` channels by adaptive average pooling along the channels.

    Widening (the search's only use) averages windows of one or two neighbouring channels: two gathers,
    several times faster on the CPU than ``adaptive_avg_pool3d`` and equal to it."""
    channels = inputs.shape[1]
    if channels == width:
        return inputs
    if width < channels:
        return F.adaptive_avg_pool3d(inputs, (width, inputs.shape[2], inputs.shape[3]))
    first, last = _widening_windows(channels, width, inputs.device)
    return (inputs.index_select(1, first) + inputs.index_select(1, last)) * 0.5


@lru_cache(maxsize=None)
def _widening_windows(channels: int, width: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """First and last input channel of each output channel's adaptive-pooling window (width >= channels)."""
    first = [i * channels // width for i in range(width)]
    last = [-(-(i + 1) * channels // width) - 1 for i in range(width)]
    return torch.tensor(first, device=device), torch.tensor(last, device=device)


def add_into_wider(first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """The sum of two maps of unequal widths: the narrower one is added into the leading channels of the wider."""
    if first.shape[1] == second.shape[1]:
        return first + second
    wide, narrow = (first, second) if first.shape[1] > second.shape[1] else (second, first)
    cut = narrow.shape[1]
    return torch.cat([wide[:, :cut] + narrow, wide[:, cut:]], dim=1)


def flop_loss(expected_mflops: torch.Tensor, current_mflops: float, target_mflops: float,
              tolerance_mflops: float) -> torch.Tensor:
    """The asymmetric FLOP-target loss: -log E[F] when the current shape is below target - tolerance,
    +log E[F] when it is above the target (no tolerance on that side), 0 in between."""
    if current_mflops < target_mflops - tolerance_mflops:
        return -torch.log(expected_mflops)
    if current_mflops > target_mflops:
        return torch.log(expected_mflops)
    return expected_mflops.new_zeros(())


def gumbel_logits(logits: torch.Tensor, tau: float, generator: torch.Generator) -> torch.Tensor:
    """(log_softmax(logits) + Gumbel noise) / tau, the noise drawn on the CPU from ``generator``."""
    noise = torch.empty(logits.shape, dtype=logits.dtype).exponential_(generator=generator)
    gumbels = -noise.clamp_min(GUMBEL_FLOOR).log().to(logits.device)
    return (logits.log_softmax(dim=-1) + gumbels) / tau


class SearchConv(nn.Module):
    """A convolution (optionally after a 2x2 average pool) whose output width is searched, one BN per candidate."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, stride: int = 1, avg_pool: bool = False,
                 bn: bool = True, relu: bool = False) -> None:
        super().__init__()
        self.choices = width_choices(out_channels)
        self.pool = nn.AvgPool2d(2, 2) if avg_pool else None
        self.conv = nn.Conv2d(in_channels, out_channels, kernel, stride, kernel // 2, bias=False)
        self.bns = nn.ModuleList(nn.BatchNorm2d(width) for width in self.choices) if bn else None
        self.relu = relu
        self.area = 0  # output positions per image, set by set_input_size

    def set_input_size(self, size: int) -> int:
        """Record the output area for an input of ``size`` x ``size``; returns the output size."""
        if self.pool is not None:
            size //= 2
        kernel, stride, padding = self.conv.kernel_size[0], self.conv.stride[0], self.conv.padding[0]
        size = (size + 2 * padding - kernel) // stride + 1
        self.area = size * size
        return size

    def flops(self, in_channels: Any, out_channels: Any) -> Any:
        """Multiply-accumulates at these (possibly expected, fractional) widths."""
        return self.conv.kernel_size[0] * self.conv.kernel_size[1] * in_channels * out_channels * self.area

    def forward(self, inputs: torch.Tensor, sample: tuple[list[int], torch.Tensor] | None = None) -> torch.Tensor:
        if self.pool is not None:
            inputs = self.pool(inputs)
        if sample is None:
            outputs = self.conv(inputs)
            if self.bns is not None:
                outputs = self.bns[-1](outputs)
        else:
            indices, weights = sample
            widths = [self.choices[i] for i in indices]
            width = max(widths)
            # the missing input channels are zeros, so the narrower input meets the leading input weights only
            full = F.conv2d(inputs, self.conv.weight[:width, :inputs.shape[1]], None, self.conv.stride,
                            self.conv.padding)
            parts = [full[:, :w] for w in widths]
            if self.bns is not None:
                parts = [self.bns[i](part) for i, part in zip(indices, parts)]
            outputs = sum(channel_interpolate(part, width) * weight for part, weight in zip(parts, weights))
        return F.relu(outputs) if self.relu else outputs


class SearchBlock(nn.Module):
    """A residual block of searched convolutions; the shortcut projection shares the last convolution's sample."""

    def __init__(self, in_channels: int, planes: int, stride: int, block: str, shortcut: str = "cifar") -> None:
        super().__init__()
        kernels, stride_at, expansion = BLOCK_LAYOUTS[block]
        widths = [planes] * (len(kernels) - 1) + [planes * expansion]
        inputs = [in_channels] + widths[:-1]
        last = len(kernels) - 1
        self.convs = nn.ModuleList(
            SearchConv(c_in, c_out, kernel, stride if i == stride_at else 1, relu=i < last)
            for i, (c_in, c_out, kernel) in enumerate(zip(inputs, widths, kernels)))
        self.out_channels = widths[-1]
        if stride == 2:  # cifar: avg-pool + 1x1 conv; imagenet: + BN; torchvision: strided 1x1 conv + BN
            self.shortcut = SearchConv(in_channels, widths[-1], 1, 1 if shortcut != "torchvision" else 2,
                                       avg_pool=shortcut != "torchvision", bn=shortcut != "cifar")
        elif in_channels != widths[-1]:
            self.shortcut = SearchConv(in_channels, widths[-1], 1)
        else:
            self.shortcut = None

    def set_input_size(self, size: int) -> int:
        if self.shortcut is not None:
            self.shortcut.set_input_size(size)
        for conv in self.convs:
            size = conv.set_input_size(size)
        return size

    def forward(self, inputs: torch.Tensor, samples: Sequence | None = None) -> torch.Tensor:
        samples = samples if samples is not None else [None] * len(self.convs)
        outputs = inputs
        for conv, sample in zip(self.convs, samples):
            outputs = conv(outputs, sample)
        residual = inputs if self.shortcut is None else self.shortcut(inputs, samples[-1])
        # the ReLU after the sum, also while searching (the original's search forward once dropped it)
        return F.relu(add_into_wider(residual, outputs))

    def flops(self, in_channels: Any, widths: Sequence[Any], count_implied_projection: bool) -> Any:
        """The block's MACs at ``in_channels`` and one width per convolution.  With ``count_implied_projection``
        an identity shortcut between unequal widths is counted as the 1x1 projection the built network has."""
        total, previous = 0, in_channels
        for conv, width in zip(self.convs, widths):
            total = total + conv.flops(previous, width)
            previous = width
        if self.shortcut is not None:
            total = total + self.shortcut.flops(in_channels, widths[-1])
        elif count_implied_projection and in_channels != widths[-1]:
            total = total + in_channels * widths[-1] * self.convs[-1].area
        return total


class ShapeSearchResNet(nn.Module):
    """A ResNet whose widths and/or depths are searched; ``forward`` returns ``(features, logits)``."""

    def __init__(self, stem: Sequence[SearchConv], stem_pool: nn.Module | None, stages: Sequence[Sequence[SearchBlock]],
                 stage_depth_choices: Sequence[Sequence[int]], num_classes: int, mode: str, input_size: int,
                 infer_config: dict[str, Any]) -> None:
        super().__init__()
        if mode not in SEARCH_MODES:
            raise ConfigError(f"unknown TAS search mode {mode!r}; expected one of {', '.join(SEARCH_MODES)}")
        self.mode, self.input_size, self.infer_config = mode, input_size, dict(infer_config)
        self.stem = nn.ModuleList(stem)
        self.stem_pool = stem_pool if stem_pool is not None else nn.Identity()
        self.stages = nn.ModuleList(nn.ModuleList(blocks) for blocks in stages)
        self.depth_choices = [tuple(c) for c in stage_depth_choices]
        self.classifier = nn.Linear(stages[-1][-1].out_channels, num_classes)
        self.num_classes = num_classes
        self.convs: list[SearchConv] = list(stem) + [c for blocks in stages for block in blocks for c in block.convs]
        if mode != "depth" and min(len(conv.choices) for conv in self.convs) < 2:
            raise ConfigError("every searched convolution needs at least 4 channels to offer two widths; "
                              "use a wider base network")
        size = input_size
        for conv in self.stem:
            size = conv.set_input_size(size)
        size = size if stem_pool is None else (size + 2 * 1 - 3) // 2 + 1
        for blocks in self.stages:
            for block in blocks:
                size = block.set_input_size(size)
        # candidate widths (zero-padded) and which entries are real
        most = max(len(conv.choices) for conv in self.convs)
        table = torch.zeros(len(self.convs), most)
        for row, conv in enumerate(self.convs):
            table[row, :len(conv.choices)] = torch.tensor(conv.choices, dtype=torch.float32)
        self.register_buffer("width_table", table, persistent=False)
        self.register_buffer("width_mask", table > 0, persistent=False)
        # kept[s][b, j] = 1 when the j-th depth candidate of stage s keeps block b
        self.kept_masks = [torch.tensor([[float(c > b) for c in choices] for b in range(len(blocks))])
                           for choices, blocks in zip(self.depth_choices, self.stages)]
        init_baseline_weights(self)
        self.width_logits = nn.Parameter(torch.randn(len(self.convs), most) * 0.01) if mode != "depth" else None
        candidates = len(self.depth_choices[0])
        self.depth_logits = nn.Parameter(torch.randn(len(self.stages), candidates) * 0.01) if mode != "width" else None
        self._sampling: tuple[float, torch.Generator] | None = None

    # ------------------------------------------------------------------------------ parameters
    def arch_parameters(self) -> list[nn.Parameter]:
        return [p for p in (self.width_logits, self.depth_logits) if p is not None]

    def weight_parameters(self) -> list[nn.Parameter]:
        arch = {id(p) for p in self.arch_parameters()}
        return [p for p in self.parameters() if id(p) not in arch]

    def width_probabilities(self) -> torch.Tensor | None:
        """Softmax over each convolution's candidate widths (rows), or None in depth mode."""
        if self.width_logits is None:
            return None
        return self.width_logits.masked_fill(~self.width_mask, -math.inf).softmax(dim=-1)

    def depth_probabilities(self) -> torch.Tensor | None:
        """Softmax over each stage's candidate block counts, or None in width mode."""
        return None if self.depth_logits is None else self.depth_logits.softmax(dim=-1)

    # -------------------------------------------------------------------------------- forward
    @contextmanager
    def sampling(self, tau: float, generator: torch.Generator) -> Iterator[None]:
        """Within this context ``forward`` samples widths and depths at temperature ``tau`` from ``generator``."""
        previous, self._sampling = self._sampling, (tau, generator)
        try:
            yield
        finally:
            self._sampling = previous

    def _sample_widths(self, tau: float, generator: torch.Generator) -> list[tuple[list[int], torch.Tensor]] | None:
        if self.width_logits is None:
            return None
        logits = self.width_logits.masked_fill(~self.width_mask, -math.inf)
        perturbed = gumbel_logits(logits, tau, generator)
        probabilities = perturbed.detach().softmax(dim=-1).cpu()
        eps = 1e-7 * self.width_mask.cpu()  # as the original: never a zero row, never a padded entry
        indices = torch.multinomial(probabilities + eps, 2, replacement=False, generator=generator)
        weights = perturbed.gather(1, indices.to(perturbed.device)).softmax(dim=-1)
        return list(zip(indices.tolist(), weights))

    def forward(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        widths = depths = None
        if self._sampling is not None:
            tau, generator = self._sampling
            widths = self._sample_widths(tau, generator)
            if self.depth_logits is not None:
                depths = gumbel_logits(self.depth_logits, tau, generator).softmax(dim=-1)
        cursor = 0

        def take(count: int) -> list | None:
            nonlocal cursor
            cursor += count
            return None if widths is None else widths[cursor - count:cursor]

        x = inputs
        for conv in self.stem:
            x = conv(x, *(take(1) or [None]))
        x = self.stem_pool(x)
        for stage, blocks in enumerate(self.stages):
            candidates = []
            for index, block in enumerate(blocks):
                x = block(x, take(len(block.convs)))
                if depths is not None and index + 1 in self.depth_choices[stage]:
                    candidates.append(x)
            if depths is not None:
                width = max(c.shape[1] for c in candidates)
                x = sum(channel_interpolate(c, width) * p for c, p in zip(candidates, depths[stage]))
        features = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        if features.shape[1] == self.classifier.in_features:
            return features, self.classifier(features)
        # a narrower final map meets the leading classifier weights
        return features, F.linear(features, self.classifier.weight[:, :features.shape[1]], self.classifier.bias)

    # ---------------------------------------------------------------------------------- FLOPs
    def expected_mflops(self) -> torch.Tensor:
        """Differentiable expected MFLOPs: expected widths under the softmax; a block's FLOPs weighted by the
        probability that its stage keeps it; the classifier counted as E[C_last] x classes."""
        probabilities = self.width_probabilities()
        if probabilities is None:
            widths = self.width_table.max(dim=1).values
        else:
            widths = (probabilities * self.width_table).sum(dim=1)
        depth = self.depth_probabilities()
        total, previous, cursor = 0.0, 3.0, 0
        for conv in self.stem:
            total = total + conv.flops(previous, widths[cursor])
            previous, cursor = widths[cursor], cursor + 1
        for stage, blocks in enumerate(self.stages):
            keep = None if depth is None else self.kept_masks[stage].to(depth) @ depth[stage]
            for index, block in enumerate(blocks):
                block_widths = widths[cursor:cursor + len(block.convs)]
                flops = block.flops(previous, block_widths, count_implied_projection=False)
                total = total + (flops if keep is None else keep[index] * flops)
                previous, cursor = block_widths[-1], cursor + len(block.convs)
        return (total + previous * self.num_classes) / 1e6

    def current_shape(self) -> tuple[list[int], list[int]]:
        """The argmax shape: ``xchannels`` (3, then one width per convolution) and ``xblocks``."""
        probabilities = self.width_probabilities()
        if probabilities is None:
            widths = [conv.choices[-1] for conv in self.convs]
        else:
            rows = probabilities.detach().argmax(dim=1).tolist()
            widths = [conv.choices[row] for conv, row in zip(self.convs, rows)]
        depth = self.depth_probabilities()
        if depth is None:
            blocks = [len(stage) for stage in self.stages]
        else:
            blocks = [choices[j] for choices, j in zip(self.depth_choices, depth.detach().argmax(dim=1).tolist())]
        return [3, *widths], blocks

    def uniform_shape(self, ratio: float) -> tuple[list[int], list[int]]:
        """The fixed-ratio baseline of the paper's ablation: every convolution at ``int(sqrt(ratio) * C)``
        (about ``ratio`` of the FLOPs), every block kept."""
        scale = math.sqrt(ratio)
        return [3] + [max(1, int(scale * conv.choices[-1])) for conv in self.convs], [len(s) for s in self.stages]

    def random_shape(self, ratio: float, generator: torch.Generator) -> tuple[list[int], list[int]]:
        """The random baseline: each convolution draws a candidate width with probability proportional to
        ``1 / (|width - sqrt(ratio) * C| + 0.2)`` (near the fixed-ratio width), each stage a block count
        uniformly among its candidates."""
        scale, widths = math.sqrt(ratio), []
        for conv in self.convs:
            closeness = torch.tensor([1.0 / (abs(w - scale * conv.choices[-1]) + 0.2) for w in conv.choices])
            widths.append(conv.choices[int(torch.multinomial(closeness, 1, generator=generator))])
        blocks = [choices[int(torch.randint(len(choices), (), generator=generator))] for choices in self.depth_choices]
        return [3, *widths], blocks

    def shape_mflops(self, xchannels: Sequence[int], xblocks: Sequence[int]) -> float:
        """The search's FLOP estimate of a discrete shape (the original's ``estimated_FLOP``): dropped blocks
        cost nothing, every kept one is counted at the widths ``xchannels`` gives it."""
        total, cursor = 0, 1
        for conv in self.stem:
            total += conv.flops(xchannels[cursor - 1], xchannels[cursor])
            cursor += 1
        for stage, blocks in enumerate(self.stages):
            for index, block in enumerate(blocks):
                count = len(block.convs)
                if index < xblocks[stage]:
                    total += block.flops(xchannels[cursor - 1], xchannels[cursor:cursor + count], True)
                cursor += count
        return (total + xchannels[-1] * self.num_classes) / 1e6

    def shape_config(self, xchannels: Sequence[int] | None = None, xblocks: Sequence[int] | None = None) -> dict[str, Any]:
        """A model config of a shape (default: the argmax shape) that ``create_model`` builds."""
        if xchannels is None or xblocks is None:
            xchannels, xblocks = self.current_shape()
        return {**self.infer_config, "num_classes": self.num_classes, "xchannels": list(xchannels),
                "xblocks": list(xblocks), "estimated_FLOP": round(self.shape_mflops(xchannels, xblocks), 6)}


def _stages(in_channels: int, widths: Sequence[int], counts: Sequence[int], block: str,
            shortcut: str) -> list[list[SearchBlock]]:
    stages, channels = [], in_channels
    for stage, (planes, count) in enumerate(zip(widths, counts)):
        blocks = []
        for index in range(count):
            blocks.append(SearchBlock(channels, planes, 2 if stage > 0 and index == 0 else 1, block, shortcut))
            channels = blocks[-1].out_channels
        stages.append(blocks)
    return stages


@register_model("search.shape-cifar-resnet")
def search_shape_cifar_resnet(depth: int, block: str = "basic", num_classes: int = 10, mode: str = "shape",
                              input_size: int = 32) -> ShapeSearchResNet:
    """The searchable CIFAR ResNet (spec 3.1): 3x3 stem to 16, stages of 16/32/64 (x4 for bottlenecks)."""
    check_num_classes(num_classes, "search.shape-cifar-resnet")
    count = blocks_per_stage(depth, block)
    stem = [SearchConv(3, CIFAR_WIDTHS[0], 3, relu=True)]
    stages = _stages(CIFAR_WIDTHS[0], CIFAR_WIDTHS, [count] * 3, block, shortcut="cifar")
    return ShapeSearchResNet(stem, None, stages, [depth_choices(count)] * 3, num_classes, mode, input_size,
                             {"name": "shape-cifar-resnet", "depth": depth, "block": block})


def imagenet_search_resnet(block: str, layers: list[int], num_classes: int, mode: str, input_size: int, shortcut: str,
                           infer_config: dict[str, Any], model: str) -> ShapeSearchResNet:
    """A searchable ImageNet-layout ResNet: 7x7 stride-2 stem to 64 and a max-pool, four stages of 64..512 (x4);
    ``shortcut`` 'imagenet' (avg-pool + 1x1 conv + BN at stride 2) or 'torchvision' (strided 1x1 conv + BN)."""
    check_num_classes(num_classes, model)
    if block not in BLOCK_LAYOUTS:
        raise ConfigError(f"{model}: unknown block {block!r}; expected 'basic' or 'bottleneck'")
    if not isinstance(layers, (list, tuple)) or len(layers) != 4 or not all(isinstance(n, int) and n >= 1 for n in layers):
        raise ConfigError(f"{model}: layers must be four positive block counts, got {layers!r}")
    stem = [SearchConv(3, 64, 7, 2, relu=True)]
    stages = _stages(64, IMAGENET_WIDTHS, layers, block, shortcut)
    return ShapeSearchResNet(stem, nn.MaxPool2d(3, 2, 1), stages, imagenet_depth_choices(layers), num_classes, mode,
                             input_size, infer_config)


@register_model("search.shape-imagenet-resnet")
def search_shape_imagenet_resnet(block: str, layers: list[int], num_classes: int = 1000, mode: str = "shape",
                                 input_size: int = 224) -> ShapeSearchResNet:
    """The searchable ImageNet ResNet of ``imagenet-resnet`` (V1 stem)."""
    return imagenet_search_resnet(block, layers, num_classes, mode, input_size, "imagenet",
                                  {"name": "shape-imagenet-resnet", "block": block, "layers": list(layers)},
                                  "search.shape-imagenet-resnet")


def search_model_config(base: Mapping[str, Any], mode: str, num_classes: int, input_size: int) -> dict[str, Any]:
    """The searchable counterpart of a base ResNet config (``cifar-resnet``, ``imagenet-resnet`` or an unpruned
    ``shape-torchvision-resnet``)."""
    name = base.get("name")
    if name == "cifar-resnet":
        return {"name": "search.shape-cifar-resnet", "depth": base["depth"], "block": base.get("block", "basic"),
                "num_classes": num_classes, "mode": mode, "input_size": input_size}
    if name == "imagenet-resnet" and not base.get("deep_stem") and base.get("groups", 1) == 1 \
            and base.get("width_per_group", 64) == 64:
        return {"name": "search.shape-imagenet-resnet", "block": base["block"], "layers": list(base["layers"]),
                "num_classes": num_classes, "mode": mode, "input_size": input_size}
    if name == "shape-torchvision-resnet" and base.get("xchannels") is None and base.get("xblocks") is None:
        return {"name": "search.shape-torchvision-resnet", "arch": base["arch"], "num_classes": num_classes,
                "mode": mode, "input_size": input_size}
    raise ConfigError(f"TAS searches the shapes of 'cifar-resnet', plain 'imagenet-resnet' configs (7x7 stem, no "
                      f"groups) and torchvision ResNets, got {name!r}; pass e.g. configs/archs/CIFAR-ResNet56.json "
                      f"or resnet18")
