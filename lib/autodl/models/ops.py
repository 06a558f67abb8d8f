"""Candidate operations of the cell-based search spaces (NAS-Bench-201 and DARTS), built by name.

Every builder in :data:`OPS` has the signature
``builder(C_in, C_out, stride, affine, track_running_stats) -> nn.Module`` and the module maps a
``(N, C_in, H, W)`` tensor to ``(N, C_out, ceil(H / stride), ceil(W / stride))``.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from ..errors import AutoDLError
from ..registry import Registry

OpBuilder = Callable[[int, int, int, bool, bool], nn.Module]

OPS: Registry[OpBuilder] = Registry("operation")

OP_SETS: dict[str, list[str]] = {
    "nas-bench-201": ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"],
    "darts": ["none", "skip_connect", "dua_sepc_3x3", "dua_sepc_5x5",
              "dil_sepc_3x3", "dil_sepc_5x5", "avg_pool_3x3", "max_pool_3x3"],
    "connect-nas": ["none", "skip_connect", "nor_conv_3x3"],
}


class OpError(AutoDLError):
    """An operation was asked for with arguments it cannot honour (for example an unsupported stride)."""


class ReLUConvBN(nn.Module):
    """ReLU (not in place), a bias-free convolution, then batch normalisation."""

    def __init__(self, C_in: int, C_out: int, kernel_size: int, stride: int, padding: int, dilation: int,
                 affine: bool = True, track_running_stats: bool = True) -> None:
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_out, kernel_size, stride=stride, padding=padding, dilation=dilation, bias=False),
            nn.BatchNorm2d(C_out, affine=affine, track_running_stats=track_running_stats),
        )

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.op(inputs)


class SepConv(nn.Module):
    """One separable block: ReLU, depthwise k x k convolution, pointwise 1 x 1 convolution, BN."""

    def __init__(self, C_in: int, C_out: int, kernel_size: int, stride: int, padding: int, dilation: int,
                 affine: bool = True, track_running_stats: bool = True) -> None:
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_in, kernel_size, stride=stride, padding=padding, dilation=dilation,
                      groups=C_in, bias=False),
            nn.Conv2d(C_in, C_out, 1, bias=False),
            nn.BatchNorm2d(C_out, affine=affine, track_running_stats=track_running_stats),
        )

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.op(inputs)


class DualSepConv(nn.Module):
    """DARTS ``sep_conv``: a strided separable block at C_in width, then one mapping to C_out."""

    def __init__(self, C_in: int, C_out: int, kernel_size: int, stride: int, padding: int, dilation: int,
                 affine: bool = True, track_running_stats: bool = True) -> None:
        super().__init__()
        self.op_a = SepConv(C_in, C_in, kernel_size, stride, padding, dilation, affine, track_running_stats)
        self.op_b = SepConv(C_in, C_out, kernel_size, 1, padding, dilation, affine, track_running_stats)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.op_b(self.op_a(inputs))


class AsymmetricConv(nn.Module):
    """``conv_kx1_1xk`` ops: ReLU, a 1 x k conv striding the width, a k x 1 conv striding the height, BN."""

    def __init__(self, C_in: int, C_out: int, kernel_size: int, stride: int, affine: bool = True,
                 track_running_stats: bool = True) -> None:
        super().__init__()
        pad = kernel_size // 2
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_in, (1, kernel_size), stride=(1, stride), padding=(0, pad), bias=False),
            nn.Conv2d(C_in, C_out, (kernel_size, 1), stride=(stride, 1), padding=(pad, 0), bias=False),
            nn.BatchNorm2d(C_out, affine=affine, track_running_stats=track_running_stats),
        )

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.op(inputs)


class Pooling(nn.Module):
    """k x k average or max pooling padded by k // 2 (padding excluded from averages), after a 1 x 1
    projection if widths differ."""

    def __init__(self, C_in: int, C_out: int, stride: int, mode: str,
                 affine: bool = True, track_running_stats: bool = True, kernel_size: int = 3) -> None:
        super().__init__()
        self.preprocess = (ReLUConvBN(C_in, C_out, 1, 1, 0, 1, affine, track_running_stats)
                           if C_in != C_out else None)
        if mode == "avg":
            self.op = nn.AvgPool2d(kernel_size, stride=stride, padding=kernel_size // 2, count_include_pad=False)
        elif mode == "max":
            self.op = nn.MaxPool2d(kernel_size, stride=stride, padding=kernel_size // 2)
        else:
            raise OpError(f"unknown pooling mode {mode!r}; expected 'avg' or 'max'")

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        if self.preprocess is not None:
            inputs = self.preprocess(inputs)
        return self.op(inputs)


class Zero(nn.Module):
    """The ``none`` op: zeros with C_out channels at the strided spatial size."""

    is_zero = True

    def __init__(self, C_in: int, C_out: int, stride: int) -> None:
        super().__init__()
        self.C_in, self.C_out, self.stride = C_in, C_out, stride

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        if self.C_in == self.C_out:
            return inputs[:, :, ::self.stride, ::self.stride].mul(0.0)
        batch, _, height, width = inputs.shape
        height, width = -(-height // self.stride), -(-width // self.stride)
        return inputs.new_zeros(batch, self.C_out, height, width)

    def extra_repr(self) -> str:
        return f"C_in={self.C_in}, C_out={self.C_out}, stride={self.stride}"


class FactorizedReduce(nn.Module):
    """Change width (stride 1: a 1 x 1 conv + BN) or reduce resolution by 2 or 4 with shifted 1 x 1 convs.

    With stride s > 1 the input goes through ReLU and s bias-free 1 x 1 stride-s convolutions, the k-th
    seeing the input shifted by k pixels (zero-padded at the right/bottom); the outputs are concatenated
    along channels and batch-normalised.
    """

    def __init__(self, C_in: int, C_out: int, stride: int,
                 affine: bool = True, track_running_stats: bool = True) -> None:
        super().__init__()
        if stride not in (1, 2, 4):
            raise OpError(f"FactorizedReduce got stride {stride}; expected 1, 2 or 4 (use another op otherwise)")
        self.C_in, self.C_out, self.stride = C_in, C_out, stride
        if stride == 1:
            self.conv = nn.Conv2d(C_in, C_out, 1, bias=False)
        else:
            self.relu = nn.ReLU(inplace=False)
            widths = [C_out // stride] * (stride - 1)
            widths.append(C_out - sum(widths))
            self.convs = nn.ModuleList(nn.Conv2d(C_in, width, 1, stride=stride, bias=False) for width in widths)
            self.pad = nn.ConstantPad2d((0, stride - 1, 0, stride - 1), 0.0)
        self.bn = nn.BatchNorm2d(C_out, affine=affine, track_running_stats=track_running_stats)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            return self.bn(self.conv(inputs))
        inputs = self.relu(inputs)
        padded = self.pad(inputs)
        height, width = inputs.shape[-2:]
        outputs = [conv(padded[:, :, shift:shift + height, shift:shift + width])
                   for shift, conv in enumerate(self.convs)]
        return self.bn(torch.cat(outputs, dim=1))

    def extra_repr(self) -> str:
        return f"C_in={self.C_in}, C_out={self.C_out}, stride={self.stride}"


class ResNetBasicblock(nn.Module):
    """The NB201 reduction block: two 3 x 3 ReLUConvBN plus a shortcut, with no ReLU after the addition."""

    def __init__(self, inplanes: int, planes: int, stride: int,
                 affine: bool = True, track_running_stats: bool = True) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise OpError(f"ResNetBasicblock got stride {stride}; expected 1 or 2")
        self.conv_a = ReLUConvBN(inplanes, planes, 3, stride, 1, 1, affine, track_running_stats)
        self.conv_b = ReLUConvBN(planes, planes, 3, 1, 1, 1, affine, track_running_stats)
        if stride == 2:
            self.downsample: nn.Module | None = nn.Sequential(
                nn.AvgPool2d(2, stride=2, padding=0),
                nn.Conv2d(inplanes, planes, 1, bias=False),
            )
        elif inplanes != planes:
            self.downsample = ReLUConvBN(inplanes, planes, 1, 1, 0, 1, affine, track_running_stats)
        else:
            self.downsample = None
        self.in_dim, self.out_dim, self.stride = inplanes, planes, stride

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        residual = self.conv_b(self.conv_a(inputs))
        shortcut = inputs if self.downsample is None else self.downsample(inputs)
        return shortcut + residual

    def extra_repr(self) -> str:
        return f"C_in={self.in_dim}, C_out={self.out_dim}, stride={self.stride}"


def _skip_connect(C_in: int, C_out: int, stride: int, affine: bool, track: bool) -> nn.Module:
    if stride == 1 and C_in == C_out:
        return nn.Identity()
    return FactorizedReduce(C_in, C_out, stride, affine, track)


def _dual_sep(kernel_size: int) -> OpBuilder:
    padding = kernel_size // 2
    return lambda C_in, C_out, stride, affine, track: DualSepConv(
        C_in, C_out, kernel_size, stride, padding, 1, affine, track)


def _dilated_sep(kernel_size: int) -> OpBuilder:
    padding = 2 * (kernel_size // 2)
    return lambda C_in, C_out, stride, affine, track: SepConv(
        C_in, C_out, kernel_size, stride, padding, 2, affine, track)


def _nor_conv(kernel_size: int) -> OpBuilder:
    padding = kernel_size // 2
    return lambda C_in, C_out, stride, affine, track: ReLUConvBN(
        C_in, C_out, kernel_size, stride, padding, 1, affine, track)


OPS.register("none", lambda C_in, C_out, stride, affine, track: Zero(C_in, C_out, stride))
OPS.register("skip_connect", _skip_connect)
OPS.register("avg_pool_3x3", lambda C_in, C_out, stride, affine, track: Pooling(
    C_in, C_out, stride, "avg", affine, track))
for _size in (3, 5, 7):
    OPS.register(f"max_pool_{_size}x{_size}", lambda C_in, C_out, stride, affine, track, k=_size: Pooling(
        C_in, C_out, stride, "max", affine, track, k))
for _size in (1, 3, 7):
    OPS.register(f"nor_conv_{_size}x{_size}", _nor_conv(_size))
for _size in (3, 5):
    OPS.register(f"dua_sepc_{_size}x{_size}", _dual_sep(_size))
    OPS.register(f"dil_sepc_{_size}x{_size}", _dilated_sep(_size))
    OPS.register(f"dil_conv_{_size}x{_size}", _dilated_sep(_size))
for _size in (3, 5, 7):
    OPS.register(f"sep_conv_{_size}x{_size}", _dual_sep(_size))
for _size in (3, 7):  # conv_3x1_1x3, conv_7x1_1x7
    OPS.register(f"conv_{_size}x1_1x{_size}", lambda C_in, C_out, stride, affine, track, k=_size: AsymmetricConv(
        C_in, C_out, k, stride, affine, track))
del _size


def build_op(name: str, C_in: int, C_out: int, stride: int,
             affine: bool = True, track_running_stats: bool = True) -> nn.Module:
    """Build the registered op ``name``; an unknown name raises a RegistryError listing the valid ones."""
    return OPS.get(name)(C_in, C_out, stride, affine, track_running_stats)
