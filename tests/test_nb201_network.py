"""TinyNetwork (infer.tiny): exact parameters and FLOPs of spec 7.2, config handling, forward/backward."""
from __future__ import annotations

import pytest
import torch

from autodl.engine import count_parameters, get_model_infos
from autodl.errors import ConfigError
from autodl.models import create_model
from autodl.models.nb201 import InferCell, TinyNetwork
from autodl.models.ops import ResNetBasicblock
from autodl.spaces.nb201 import Arch, SpaceError, index_to_arch

DATASETS = {"cifar10": (10, 32), "cifar100": (100, 32), "ImageNet16-120": (120, 16)}

# index -> {dataset: (MFLOPs, parameters)}; spec 7.2
GOLDEN = {
    1651: {"cifar10": (7.78305, 73_306), "cifar100": (7.78890, 79_156), "ImageNet16-120": (1.95340, 80_456)},
    1835: {"cifar10": (7.78305, 73_306), "cifar100": (7.78890, 79_156), "ImageNet16-120": (1.95340, 80_456)},
    0: {"cifar10": (15.64737, 129_306), "cifar100": (15.65322, 135_156), "ImageNet16-120": (3.91948, 136_456)},
    4317: {"cifar10": (31.37601, 241_306), "cifar100": (31.38186, 247_156), "ImageNet16-120": (7.85164, 248_456)},
    11472: {"cifar10": (78.56193, 559_386), "cifar100": (78.56778, 565_236), "ImageNet16-120": (19.64812, 566_536)},
    1: {"cifar10": (113.95137, 802_426), "cifar100": (113.95722, 808_276), "ImageNet16-120": (28.49548, 809_576)},
    1462: {"cifar10": (220.11969, 1_531_546), "cifar100": (220.12554, 1_537_396),
           "ImageNet16-120": (55.03756, 1_538_696)},
}
CASES = [(index, dataset) for index in GOLDEN for dataset in DATASETS]




@pytest.mark.parametrize("index, dataset", CASES)
def test_params_and_flops_match_the_spec(index, dataset):
    num_classes, size = DATASETS[dataset]
    model = create_model({"name": "infer.tiny", "C": 16, "N": 5, "arch_str": str(index_to_arch(index)),
                          "num_classes": num_classes})
    flops, params = get_model_infos(model, (1, 3, size, size))
    expected_flops, expected_params = GOLDEN[index][dataset]
    assert count_parameters(model) == expected_params
    assert params == pytest.approx(expected_params / 1e6, abs=1e-12)
    assert round(flops, 5) == pytest.approx(expected_flops, abs=1e-9)


def test_layout_is_three_stages_with_two_resnet_reductions():
    model = TinyNetwork(16, 5, index_to_arch(1), 10)
    kinds = [type(cell) for cell in model.cells]
    assert len(kinds) == 17
    assert [i for i, kind in enumerate(kinds) if kind is ResNetBasicblock] == [5, 11]
    assert [cell.out_dim for cell in model.cells] == [16] * 5 + [32] * 6 + [64] * 6
    assert len(model.stem) == 2  # conv + BN, no ReLU
    assert model.classifier.in_features == 64


def test_forward_returns_features_and_logits_and_backpropagates():
    torch.manual_seed(0)
    model = create_model({"name": "infer.tiny", "C": 4, "N": 1, "genotype": index_to_arch(1), "num_classes": 7})
    inputs = torch.randn(3, 3, 16, 16)
    features, logits = model(inputs)
    assert features.shape == (3, 16) and logits.shape == (3, 7)
    torch.nn.functional.cross_entropy(logits, torch.tensor([0, 3, 6])).backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert model.stem[0].weight.grad.abs().sum() > 0


def test_all_none_cell_still_runs():
    features, logits = TinyNetwork(4, 1, index_to_arch(1651), 3)(torch.randn(2, 3, 8, 8))
    assert logits.shape == (2, 3) and torch.isfinite(features).all()


def test_cell_sums_its_edges():
    torch.manual_seed(0)
    arch = Arch.from_str("|nor_conv_1x1~0|+|skip_connect~0|nor_conv_3x3~1|+|none~0|skip_connect~1|avg_pool_3x3~2|")
    cell = InferCell(arch, 4, 4).eval()
    x = torch.randn(1, 4, 6, 6)
    e = cell.edges
    n1 = e[0](x)
    n2 = x + e[2](n1)
    n3 = n1 + e[5](n2)
    assert torch.allclose(cell(x), n3)


def test_cell_that_changes_width_builds_input_edges_with_the_new_width():
    cell = InferCell(index_to_arch(1462), 8, 16, stride=2)
    assert cell(torch.randn(1, 8, 8, 8)).shape == (1, 16, 4, 4)
    assert cell.edges[0].op[1].in_channels == 8 and cell.edges[2].op[1].in_channels == 16


def test_config_accepts_strings_and_archs_and_rejects_ambiguity():
    text = str(index_to_arch(11472))
    from_string = create_model({"name": "infer.tiny", "C": 4, "N": 1, "genotype": text, "num_classes": 10})
    assert from_string.arch == index_to_arch(11472)
    with pytest.raises(ConfigError, match="exactly one of 'arch_str' or 'genotype'"):
        create_model({"name": "infer.tiny", "C": 4, "N": 1, "num_classes": 10})
    with pytest.raises(ConfigError, match="exactly one of 'arch_str' or 'genotype'"):
        create_model({"name": "infer.tiny", "arch_str": text, "genotype": text})
    with pytest.raises(SpaceError, match="unknown op"):
        create_model({"name": "infer.tiny", "arch_str": text.replace("nor_conv_3x3", "conv")})


def test_counts_over_the_space_are_the_golden_base_plus_each_edge_op():
    """Every NB201 op adds a fixed cost per edge (convs only; none/skip/pool are free), so the golden
    all-none, all-1x1 and all-3x3 rows of spec 7.2 determine the count of every one of the 15,625
    cells; check a reproducible sample of them against that closed form."""
    import random

    base_flops, base_params = GOLDEN[1651]["cifar10"]
    per_edge = {"nor_conv_1x1": ((GOLDEN[4317]["cifar10"][0] - base_flops) / 6, (241_306 - base_params) // 6),
                "nor_conv_3x3": ((GOLDEN[1462]["cifar10"][0] - base_flops) / 6, (1_531_546 - base_params) // 6)}
    for index in random.Random(7).sample(range(15625), 12):
        arch = index_to_arch(index)
        model = create_model({"name": "infer.tiny", "C": 16, "N": 5, "arch_str": str(arch), "num_classes": 10})
        flops, _ = get_model_infos(model, (1, 3, 32, 32))
        ops = arch.to_ops()
        assert count_parameters(model) == base_params + sum(per_edge[op][1] for op in ops if op in per_edge)
        assert flops == pytest.approx(base_flops + sum(per_edge[op][0] for op in ops if op in per_edge), abs=2e-5)
