"""The cell operation library: names, op sets, shapes, structure details and parameter counts."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from autodl.engine import count_parameters
from autodl.errors import AutoDLError, RegistryError
from autodl.models.ops import (OP_SETS, OPS, DualSepConv, FactorizedReduce, OpError, Pooling, ReLUConvBN,
                               ResNetBasicblock, SepConv, Zero, build_op)

SPEC_OPS = ["none", "avg_pool_3x3", "max_pool_3x3", "nor_conv_1x1", "nor_conv_3x3", "nor_conv_7x7",
            "dua_sepc_3x3", "dua_sepc_5x5", "dil_sepc_3x3", "dil_sepc_5x5", "skip_connect"]
DARTS_ALIASES = {"sep_conv_3x3": "dua_sepc_3x3", "sep_conv_5x5": "dua_sepc_5x5",
                 "dil_conv_3x3": "dil_sepc_3x3", "dil_conv_5x5": "dil_sepc_5x5"}
# NASNet-space ops of the published genotypes and of NASP's 12-op search space
NASNET_OPS = ["sep_conv_7x7", "conv_7x1_1x7", "conv_3x1_1x3", "max_pool_5x5", "max_pool_7x7"]


def test_registry_holds_every_spec_op_and_the_darts_aliases():
    assert set(OPS.names()) == set(SPEC_OPS) | set(DARTS_ALIASES) | set(NASNET_OPS)


def test_op_sets_have_the_spec_order():
    assert OP_SETS["nas-bench-201"] == ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
    assert OP_SETS["darts"] == ["none", "skip_connect", "dua_sepc_3x3", "dua_sepc_5x5",
                                "dil_sepc_3x3", "dil_sepc_5x5", "avg_pool_3x3", "max_pool_3x3"]
    assert OP_SETS["connect-nas"] == ["none", "skip_connect", "nor_conv_3x3"]
    assert all(name in OPS for names in OP_SETS.values() for name in names)


@pytest.mark.parametrize("name", sorted(OPS.names()))
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("C_in, C_out", [(8, 8), (8, 12)])
def test_output_shape(name, stride, C_in, C_out):
    op = build_op(name, C_in, C_out, stride)
    inputs = torch.randn(2, C_in, 9, 9)
    size = 9 if stride == 1 else 5
    assert op(inputs).shape == (2, C_out, size, size)


@pytest.mark.parametrize("alias, name", sorted(DARTS_ALIASES.items()))
def test_darts_aliases_build_the_same_modules(alias, name):
    a, b = build_op(alias, 6, 6, 2), build_op(name, 6, 6, 2)
    assert type(a) is type(b)
    assert str(a) == str(b)


def test_unknown_op_raises_a_registry_error():
    with pytest.raises(RegistryError, match="unknown operation 'conv_9x9'"):
        build_op("conv_9x9", 4, 4, 1)


def test_zero_op_is_marked_and_returns_zeros():
    op = build_op("none", 4, 4, 2)
    assert isinstance(op, Zero) and op.is_zero
    out = op(torch.randn(1, 4, 8, 8))
    assert out.shape == (1, 4, 4, 4) and torch.count_nonzero(out) == 0


def test_zero_op_honours_the_stride_when_widths_differ():
    """The original ignored the stride here (spec 8.19); we return the strided size."""
    out = build_op("none", 4, 6, 2)(torch.randn(3, 4, 7, 7))
    assert out.shape == (3, 6, 4, 4) and torch.count_nonzero(out) == 0


def test_nor_conv_is_relu_conv_bn():
    op = build_op("nor_conv_3x3", 4, 6, 1, affine=True, track_running_stats=True)
    relu, conv, bn = op.op
    assert isinstance(relu, nn.ReLU) and not relu.inplace
    assert conv.bias is None and conv.kernel_size == (3, 3) and conv.padding == (1, 1)
    assert isinstance(bn, nn.BatchNorm2d) and bn.num_features == 6
    assert count_parameters(op) == 9 * 4 * 6 + 2 * 6
    assert build_op("nor_conv_7x7", 4, 6, 1).op[1].padding == (3, 3)
    assert build_op("nor_conv_1x1", 4, 6, 1).op[1].padding == (0, 0)


def test_affine_and_running_stats_flags_are_honoured():
    op = build_op("nor_conv_1x1", 4, 4, 1, affine=False, track_running_stats=False)
    bn = op.op[2]
    assert bn.weight is None and bn.running_mean is None
    assert count_parameters(op) == 16


def test_nor_conv_does_not_modify_its_input():
    inputs = torch.randn(1, 3, 5, 5)
    copy = inputs.clone()
    build_op("nor_conv_3x3", 3, 3, 1)(inputs)
    assert torch.equal(inputs, copy)


def test_avg_pool_excludes_padding_and_has_no_bn():
    op = build_op("avg_pool_3x3", 4, 4, 1)
    assert isinstance(op, Pooling) and op.preprocess is None
    assert not any(isinstance(m, nn.BatchNorm2d) for m in op.modules())
    out = op(torch.ones(1, 4, 6, 6))
    assert torch.equal(out, torch.ones(1, 4, 6, 6))  # corners average 4 real pixels, not 9


def test_max_pool_values():
    inputs = torch.arange(16.0).reshape(1, 1, 4, 4)
    out = build_op("max_pool_3x3", 1, 1, 2)(inputs)
    assert out.flatten().tolist() == [5.0, 7.0, 13.0, 15.0]


def test_larger_max_pools_pad_by_half_the_kernel():
    inputs = torch.arange(25.0).reshape(1, 1, 5, 5)
    out = build_op("max_pool_5x5", 1, 1, 2)(inputs)  # windows of rows/cols i-2 .. i+2 at i = 0, 2, 4
    assert out.flatten().tolist() == [12.0, 14.0, 14.0, 22.0, 24.0, 24.0, 22.0, 24.0, 24.0]
    seven = build_op("max_pool_7x7", 3, 3, 1)
    assert (seven.op.kernel_size, seven.op.padding) == (7, 3) and count_parameters(seven) == 0
    assert seven(torch.randn(1, 3, 2, 2)).shape == (1, 3, 2, 2)


def test_pooling_projects_when_widths_differ():
    op = build_op("max_pool_3x3", 4, 8, 1)
    assert isinstance(op.preprocess, ReLUConvBN)
    assert count_parameters(op) == 4 * 8 + 2 * 8


def test_dual_separable_conv_structure_and_params():
    op = build_op("dua_sepc_3x3", 6, 10, 2)
    assert isinstance(op, DualSepConv)
    depthwise = op.op_a.op[1]
    assert depthwise.groups == 6 and depthwise.stride == (2, 2) and depthwise.padding == (1, 1)
    assert op.op_b.op[1].stride == (1, 1)
    first = 9 * 6 + 6 * 6 + 2 * 6
    second = 9 * 6 + 6 * 10 + 2 * 10
    assert count_parameters(op) == first + second
    assert build_op("dua_sepc_5x5", 6, 6, 1).op_a.op[1].padding == (2, 2)


@pytest.mark.parametrize("name, padding", [("dil_sepc_3x3", 2), ("dil_sepc_5x5", 4)])
def test_dilated_separable_conv(name, padding):
    op = build_op(name, 6, 10, 1)
    assert isinstance(op, SepConv)
    depthwise = op.op[1]
    assert depthwise.dilation == (2, 2) and depthwise.padding == (padding, padding) and depthwise.groups == 6
    size = int(name[-1])
    assert count_parameters(op) == size * size * 6 + 6 * 10 + 2 * 10


def test_skip_connect_is_identity_or_factorized_reduce():
    assert isinstance(build_op("skip_connect", 4, 4, 1), nn.Identity)
    assert isinstance(build_op("skip_connect", 4, 4, 2), FactorizedReduce)
    assert isinstance(build_op("skip_connect", 4, 8, 1), FactorizedReduce)


def test_factorized_reduce_stride_2_matches_the_definition():
    torch.manual_seed(0)
    op = FactorizedReduce(3, 5, 2).eval()
    inputs = torch.randn(1, 3, 6, 6)
    relu = inputs.relu()
    shifted = nn.functional.pad(relu, (0, 1, 0, 1))[:, :, 1:, 1:]
    first = nn.functional.conv2d(relu, op.convs[0].weight, stride=2)
    second = nn.functional.conv2d(shifted, op.convs[1].weight, stride=2)
    expected = op.bn(torch.cat([first, second], dim=1))
    assert [conv.out_channels for conv in op.convs] == [2, 3]
    assert torch.allclose(op(inputs), expected)


def test_factorized_reduce_stride_1_has_no_relu():
    op = FactorizedReduce(3, 5, 1).eval()
    inputs = torch.randn(1, 3, 4, 4)
    expected = op.bn(nn.functional.conv2d(inputs, op.conv.weight))
    assert torch.allclose(op(inputs), expected)
    assert count_parameters(op) == 15 + 10


def test_factorized_reduce_stride_4():
    op = FactorizedReduce(4, 8, 4)
    assert [conv.out_channels for conv in op.convs] == [2, 2, 2, 2]
    assert op(torch.randn(2, 4, 16, 16)).shape == (2, 8, 4, 4)
    assert op(torch.randn(1, 4, 7, 7)).shape == (1, 8, 2, 2)


@pytest.mark.parametrize("stride", [0, 3, 8])
def test_factorized_reduce_rejects_other_strides(stride):
    with pytest.raises(OpError, match=f"stride {stride}"):
        FactorizedReduce(4, 4, stride)
    assert issubclass(OpError, AutoDLError)


def test_resnet_basic_block_reduction():
    block = ResNetBasicblock(16, 32, 2)
    assert count_parameters(block) == 14_464
    assert block(torch.randn(2, 16, 8, 8)).shape == (2, 32, 4, 4)
    assert count_parameters(ResNetBasicblock(32, 64, 2)) == 57_600


def test_resnet_basic_block_has_no_relu_after_the_addition():
    torch.manual_seed(0)
    block = ResNetBasicblock(4, 4, 1).eval()
    assert block.downsample is None
    inputs = torch.randn(1, 4, 6, 6)
    out = block(inputs)
    assert torch.allclose(out, inputs + block.conv_b(block.conv_a(inputs)))
    assert (out < 0).any()


def test_resnet_basic_block_projects_width_at_stride_1():
    block = ResNetBasicblock(4, 8, 1)
    assert isinstance(block.downsample, ReLUConvBN)
    assert block(torch.randn(1, 4, 5, 5)).shape == (1, 8, 5, 5)
    with pytest.raises(OpError):
        ResNetBasicblock(4, 8, 3)


def test_ops_backpropagate():
    inputs = torch.randn(2, 4, 8, 8, requires_grad=True)
    total = sum(build_op(name, 4, 4, 1)(inputs).sum() for name in OP_SETS["darts"] + ["nor_conv_3x3"])
    total.backward()
    assert inputs.grad is not None and torch.isfinite(inputs.grad).all()


@pytest.mark.parametrize("name,kernel", [("conv_7x1_1x7", 7), ("conv_3x1_1x3", 3)])
def test_asymmetric_conv_is_a_1xk_then_kx1_conv_striding_width_then_height(name, kernel):
    op = build_op(name, 8, 12, 2)
    first, second = op.op[1], op.op[2]
    assert first.kernel_size == (1, kernel) and first.stride == (1, 2) and first.out_channels == 8
    assert second.kernel_size == (kernel, 1) and second.stride == (2, 1) and second.out_channels == 12
    assert count_parameters(op) == 8 * 8 * kernel + 8 * 12 * kernel + 2 * 12
