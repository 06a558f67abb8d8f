"""TAS searchable ResNets: candidate lists, expected FLOPs, the FLOP loss, interpolation, per-width BN, sampling."""
import pytest
import torch
import torch.nn.functional as F

from autodl.engine import count_flops, get_model_infos
from autodl.errors import ConfigError
from autodl.models import create_model, resolve_model_config
from autodl.models.shape_search import (SearchBlock, SearchConv, channel_interpolate, depth_choices, flop_loss,
                                        imagenet_depth_choices, width_choices)

W16, W32, W64 = (4, 6, 8, 9, 11, 12, 14, 16), (9, 12, 16, 19, 22, 25, 28, 32), (19, 25, 32, 38, 44, 51, 57, 64)


def search_net(depth=20, block="basic", mode="shape", **extra):
    return create_model({"name": "search.shape-cifar-resnet", "depth": depth, "block": block, "mode": mode, **extra})


def test_width_candidates_are_the_spec_lists():
    assert (width_choices(16), width_choices(32), width_choices(64)) == (W16, W32, W64)
    assert width_choices(128) == (38, 51, 64, 76, 89, 102, 115, 128)
    assert width_choices(256) == (76, 102, 128, 153, 179, 204, 230, 256)


@pytest.mark.parametrize("depth, block, depths, widths", [
    (20, "basic", (1, 2, 3), [W16] * 7 + [W32] * 6 + [W64] * 6),
    (56, "basic", (1, 3, 5, 7, 9), [W16] * 19 + [W32] * 18 + [W64] * 18),
    (110, "basic", (1, 3, 5, 7, 9, 11, 13, 15, 17, 18), [W16] * 37 + [W32] * 36 + [W64] * 36),
    (164, "bottleneck", (1, 3, 5, 7, 9, 11, 13, 15, 17, 18), None),
])
def test_candidate_lists_of_the_cifar_resnets(depth, block, depths, widths):
    net = search_net(depth, block)
    assert net.depth_choices == [depths] * 3 and depth_choices(depth // 6 if block == "basic" else 18) == depths
    assert len(net.convs) == depth - 1  # one width choice per convolution of the plain network
    if widths is not None:
        assert [conv.choices for conv in net.convs] == widths
    else:  # bottleneck: 1x1 reduce, 3x3 and 1x1 expand (x4) per block
        assert [conv.choices for conv in net.convs[1:4]] == [W16, W16, W64]
        assert net.convs[-1].choices == width_choices(256)
    assert net.width_logits.shape == (depth - 1, 8) and net.depth_logits.shape == (3, len(depths))


def test_imagenet_depth_candidates_share_the_smallest_stage_count():
    assert imagenet_depth_choices([3, 4, 6, 3]) == [(1, 2, 3), (1, 2, 4), (2, 4, 6), (1, 2, 3)]
    assert imagenet_depth_choices([2, 2, 2, 2]) == [(1, 2)] * 4


def uniform(net):
    with torch.no_grad():
        for p in net.arch_parameters():
            p.zero_()
    return net


def hand_count_resnet20(keep=(1.0, 1.0, 1.0), classes=10):
    """MACs of ResNet-20 at the expected widths of uniform width probabilities (spec 3.1 formula)."""
    e16, e32, e64 = sum(W16) / 8, sum(W32) / 8, sum(W64) / 8
    total = 9 * 3 * e16 * 32 * 32
    for position in range(3):  # stage 1: 32x32, identity shortcuts
        total += keep[position] * 2 * 9 * e16 * e16 * 32 * 32
    for (c_in, c_out, area) in ((e16, e32, 16 * 16), (e32, e64, 8 * 8)):
        total += 9 * c_in * c_out * area + 9 * c_out * c_out * area + c_in * c_out * area  # + avg-pool 1x1 projection
        for position in (1, 2):
            total += keep[position] * 2 * 9 * c_out * c_out * area
    return (total + e64 * classes) / 1e6


def test_expected_flops_equal_a_hand_count():
    assert uniform(search_net(mode="width")).expected_mflops().item() == pytest.approx(hand_count_resnet20(), rel=1e-6)
    # uniform depth over {1, 2, 3}: the first block always runs, the second with p 2/3, the third with p 1/3
    assert uniform(search_net()).expected_mflops().item() == pytest.approx(hand_count_resnet20((1, 2 / 3, 1 / 3)),
                                                                         rel=1e-6)


def peaked(net, width_index, depth_index=None):
    """Put (almost) all mass on one candidate: width ``width_index`` everywhere, depth ``depth_index``."""
    with torch.no_grad():
        net.width_logits.fill_(-30.0)
        net.width_logits[:, width_index] = 30.0
        if depth_index is not None:
            net.depth_logits.fill_(-30.0)
            net.depth_logits[:, depth_index] = 30.0
    return net


@pytest.mark.parametrize("mode, depth_index, xblocks", [("width", None, [9, 9, 9]), ("shape", 2, [5, 5, 5])])
def test_expected_flops_on_a_certain_shape_equal_the_counter_on_the_argmax_network(mode, depth_index, xblocks):
    net = peaked(search_net(56, mode=mode), 4, depth_index)
    config = net.shape_config()
    assert config["xblocks"] == xblocks
    assert config["xchannels"] == [3] + [11] * 19 + [22] * 18 + [44] * 18
    built = create_model(config)
    counted = count_flops(built, (1, 3, 32, 32)) / 1e6
    classifier_bias = 10 / 1e6  # the counter counts the bias, the search's estimate does not
    assert config["estimated_FLOP"] + classifier_bias == pytest.approx(counted, abs=1e-6)
    assert net.expected_mflops().item() + classifier_bias == pytest.approx(counted, rel=1e-6)


def test_the_unpruned_search_network_counts_as_the_base_resnet():
    for depth, block in ((20, "basic"), (164, "bottleneck")):
        base = create_model({"name": "cifar-resnet", "depth": depth, "block": block})
        assert get_model_infos(search_net(depth, block), (1, 3, 32, 32))[0] == \
            pytest.approx(get_model_infos(base, (1, 3, 32, 32))[0], abs=1e-9)


def test_depth_pruned_estimate_counts_dropped_blocks_as_the_original():
    """The estimate keeps the dropped blocks' widths in the channel list (the next stage's first block reads
    its input width there), so it differs from the built network's count: spec 7.5 C010-ResNet56."""
    config = resolve_model_config("configs/NeurIPS-2019/C010-ResNet56.json")
    assert round(search_net(56).shape_mflops(config["xchannels"], config["xblocks"]), 3) == 57.933
    assert round(count_flops(create_model(config), (1, 3, 32, 32)) / 1e6, 2) == 59.86


def test_flop_loss_has_three_regimes():
    expected = torch.tensor(50.0, requires_grad=True)
    target, tolerance = 60.0, 5.0
    low = flop_loss(expected, 54.0, target, tolerance)  # below target - tolerance: push FLOPs up
    low.backward()
    assert low.item() == pytest.approx(-torch.log(torch.tensor(50.0)).item()) and expected.grad < 0
    expected.grad = None
    high = flop_loss(expected, 60.5, target, tolerance)  # above target (no tolerance on this side): push down
    high.backward()
    assert high.item() == pytest.approx(torch.log(torch.tensor(50.0)).item()) and expected.grad > 0
    for inside in (55.0, 57.5, 60.0):
        assert flop_loss(expected, inside, target, tolerance).item() == 0.0


def test_channel_wise_interpolation_averages_neighbouring_channels():
    x = torch.arange(4.0).reshape(1, 4, 1, 1)
    assert channel_interpolate(x, 2).flatten().tolist() == [0.5, 2.5]
    assert channel_interpolate(x, 8).flatten().tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    assert channel_interpolate(x, 4) is x
    torch.manual_seed(0)
    for channels, width in ((4, 6), (9, 16), (19, 64), (25, 57), (64, 256)):  # the widening gathers are the pooling
        maps = torch.randn(2, channels, 3, 3)
        assert torch.equal(channel_interpolate(maps, width), F.adaptive_avg_pool3d(maps, (width, 3, 3)))


def test_a_sampled_convolution_mixes_two_widths_each_with_its_own_bn():
    torch.manual_seed(0)
    conv = SearchConv(6, 16, 3)
    conv.set_input_size(5)
    assert [bn.num_features for bn in conv.bns] == list(W16)
    x = torch.randn(3, 4, 5, 5)  # narrower than the conv's 6 inputs: the missing channels are zeros
    weights = torch.tensor([0.25, 0.75])
    out = conv(x, ([1, 3], weights))  # widths 6 and 9
    full = conv.conv(torch.cat([x, torch.zeros(3, 2, 5, 5)], 1))
    first, second = conv.bns[1](full[:, :6].detach()), conv.bns[3](full[:, :9].detach())
    manual = 0.25 * channel_interpolate(first, 9) + 0.75 * second
    assert out.shape == (3, 9, 5, 5) and torch.allclose(out, manual, atol=1e-5)
    # only the two sampled widths' BNs saw data (each updated twice: by the forward and by the manual check)
    touched = [i for i, bn in enumerate(conv.bns) if int(bn.num_batches_tracked) > 0]
    assert touched == [1, 3]
    assert conv.flops(4, 9) == 9 * 4 * 9 * 25


def test_sampled_blocks_end_with_the_relu():
    block = SearchBlock(16, 16, 1, "basic")
    block.set_input_size(8)
    samples = [([0, 7], torch.tensor([0.5, 0.5]))] * 2
    out = block(torch.randn(2, 16, 8, 8), samples)
    assert out.min() >= 0 and out.shape[1] == 16


def test_sampling_draws_two_distinct_widths_reproducibly_and_trains_the_logits():
    net = search_net()
    x = torch.randn(2, 3, 32, 32)
    draws = []
    for _ in range(2):
        generator = torch.Generator().manual_seed(3)
        with net.sampling(5.0, generator):
            draws.append(net._sample_widths(5.0, generator))
    assert [d[0] for d in draws[0]] == [d[0] for d in draws[1]]
    assert all(a != b for (a, b), _ in draws[0])
    with net.sampling(1.0, torch.Generator().manual_seed(0)):
        features, logits = net(x)
    (logits.sum() + net.expected_mflops()).backward()
    assert net.width_logits.grad.abs().sum() > 0 and net.depth_logits.grad.abs().sum() > 0


def test_modes_choose_what_is_searched():
    assert [p.shape for p in search_net(mode="width").arch_parameters()] == [(19, 8)]
    assert [p.shape for p in search_net(mode="depth").arch_parameters()] == [(3, 3)]
    depth_only = search_net(mode="depth")
    with torch.no_grad():
        depth_only.depth_logits[:, 0] = 30.0
    config = depth_only.shape_config()
    assert config["xblocks"] == [1, 1, 1] and config["xchannels"] == [3] + [16] * 7 + [32] * 6 + [64] * 6
    with pytest.raises(ConfigError, match="search mode"):
        search_net(mode="both")


def test_imagenet_search_network_writes_an_imagenet_shape():
    net = create_model({"name": "search.shape-imagenet-resnet", "block": "basic", "layers": [2, 2, 2, 2],
                        "num_classes": 5, "input_size": 64})
    config = net.shape_config()
    assert config["name"] == "shape-imagenet-resnet" and len(config["xchannels"]) == 2 + 16
    built = create_model(config)
    assert built(torch.zeros(1, 3, 64, 64))[1].shape == (1, 5)
    with net.sampling(2.0, torch.Generator().manual_seed(0)):
        assert net(torch.zeros(2, 3, 64, 64))[1].shape == (2, 5)


def test_ablation_baselines_fixed_ratio_and_random_shapes():
    net = search_net(32, num_classes=100)
    max_mflops = get_model_infos(net, (1, 3, 32, 32))[0]
    xchannels, xblocks = net.uniform_shape(0.5)
    assert xblocks == [5, 5, 5] and xchannels == [3] + [11] * 11 + [22] * 10 + [45] * 10  # int(sqrt(0.5) * C)
    assert 0.45 < net.shape_mflops(xchannels, xblocks) / max_mflops < 0.5  # widths round down
    draws = [net.random_shape(0.5, torch.Generator().manual_seed(4)) for _ in range(2)]
    assert draws[0] == draws[1]  # reproducible from the generator
    widths, blocks = draws[0]
    assert all(w in conv.choices for w, conv in zip(widths[1:], net.convs)) and all(b in (1, 3, 5) for b in blocks)
    create_model(net.shape_config(widths, blocks))
