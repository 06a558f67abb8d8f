"""Baseline classifiers and the JSON twins of the original recipes: golden parameter/FLOP counts of spec 7.3."""
import json
from functools import lru_cache
from pathlib import Path

import pytest
import torch
from torch import nn

from autodl.config import OptimConfig, load_config
from autodl.engine import count_parameters, get_model_infos
from autodl.errors import ConfigError
from autodl.models import create_model

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
CIFAR, IMAGENET = (1, 3, 32, 32), (1, 3, 224, 224)

# config name -> (classes, exact parameter count); the spec rounds these to 4 (CIFAR) or 3 (ImageNet) decimals in M
PARAMETERS = {
    ("CIFAR-ResNet08", 10): 77_850,          # 0.0779 M
    ("CIFAR-ResNet20", 10): 272_282,         # 272,282
    ("CIFAR-ResNet20", 100): 278_132,        # 0.2781 M
    ("CIFAR-ResNet32", 10): 466_714,         # 0.4667 M
    ("CIFAR-ResNet56", 10): 855_578,         # 0.8556 M
    ("CIFAR-ResNet56", 100): 861_428,        # 0.8614 M
    ("CIFAR-ResNet110", 10): 1_730_522,      # 1.7305 M
    ("CIFAR-ResNet110", 100): 1_736_372,     # 1.7364 M
    ("CIFAR-ResNet164", 10): 1_703_386,      # 1.7034 M
    ("CIFAR-ResNet164", 100): 1_726_516,     # 1.7265 M
    ("CIFAR-ResNet1001", 10): 10_327_834,    # 10.3278 M
    ("CIFAR-WRN28-10", 10): 36_479_194,      # 36.4792 M
    ("CIFAR-DenseBC100-12", 10): 769_162,    # 0.77 M
    ("ImageNet-ResNet18V1", 1000): 11_689_512,   # 11.690 M
    ("ImageNet-ResNet18V2", 1000): 11_708_744,   # 11.709 M
    ("ImageNet-ResNet34V1", 1000): 21_797_672,   # 21.798 M
    ("ImageNet-ResNet34V2", 1000): 21_816_904,   # 21.82 M
    ("ImageNet-ResNet50V1", 1000): 25_557_032,   # 25.557 M
    ("ImageNet-ResNet50V2", 1000): 25_576_264,   # 25.576 M
    ("ImageNet-ResNet101V1", 1000): 44_549_160,  # 44.549 M
    ("ImageNet-ResNet101V2", 1000): 44_568_392,  # 44.57 M
    ("ImageNet-ResNet152V1", 1000): 60_192_808,  # 60.193 M
    ("ImageNet-ResNet152V2", 1000): 60_212_040,  # 60.21 M
    ("ImageNet-ResNet200V1", 1000): 64_673_832,  # 64.67 M
    ("ImageNet-ResNext50-32x4dV2", 1000): 25_048_136,  # 25.048 M
    ("ImageNet-MobileNetV2", 1000): 3_504_872,   # 3.50 M
}

# spec 7.3 parameter figures in millions, with the number of decimals the spec gives
SPEC_MPARAMS = {
    ("CIFAR-ResNet08", 10): 0.0779, ("CIFAR-ResNet20", 100): 0.2781, ("CIFAR-ResNet32", 10): 0.4667,
    ("CIFAR-ResNet56", 10): 0.8556, ("CIFAR-ResNet56", 100): 0.8614, ("CIFAR-ResNet110", 10): 1.7305,
    ("CIFAR-ResNet110", 100): 1.7364, ("CIFAR-ResNet164", 10): 1.7034, ("CIFAR-ResNet164", 100): 1.7265,
    ("CIFAR-ResNet1001", 10): 10.3278, ("CIFAR-WRN28-10", 10): 36.4792, ("CIFAR-DenseBC100-12", 10): 0.77,
    ("ImageNet-ResNet18V1", 1000): 11.690, ("ImageNet-ResNet18V2", 1000): 11.709,
    ("ImageNet-ResNet34V1", 1000): 21.798, ("ImageNet-ResNet34V2", 1000): 21.82,
    ("ImageNet-ResNet50V1", 1000): 25.557, ("ImageNet-ResNet50V2", 1000): 25.576,
    ("ImageNet-ResNet101V1", 1000): 44.549, ("ImageNet-ResNet101V2", 1000): 44.57,
    ("ImageNet-ResNet152V1", 1000): 60.193, ("ImageNet-ResNet152V2", 1000): 60.21,
    ("ImageNet-ResNet200V1", 1000): 64.67, ("ImageNet-ResNext50-32x4dV2", 1000): 25.048,
    ("ImageNet-MobileNetV2", 1000): 3.50,
}

# spec 7.3 FLOPs: CIFAR in MFLOPs (2 decimals), ImageNet in GFLOPs (3 decimals)
CIFAR_MFLOPS = {
    ("CIFAR-ResNet08", 10): 12.50, ("CIFAR-ResNet20", 10): 40.81, ("CIFAR-ResNet20", 100): 40.82,
    ("CIFAR-ResNet32", 10): 69.12, ("CIFAR-ResNet56", 10): 125.75, ("CIFAR-ResNet110", 10): 253.15,
    ("CIFAR-ResNet164", 10): 247.65, ("CIFAR-WRN28-10", 10): 5243.33, ("CIFAR-DenseBC100-12", 10): 287.93,
}
SLOW_FLOPS = {  # spec 7.3 (no torchvision twin); 5-10 s each on a 2-core CPU
    ("CIFAR-ResNet1001", 10): (1491.00, 2, CIFAR), ("ImageNet-ResNet200V1", 1000): (15.007, 3, IMAGENET),
}
# ImageNet configs whose V1 network is torchvision's (same convolutions; the stride-2 shortcut's average pool
# is not counted): config -> (torchvision builder, deep stem)
TORCHVISION_TWINS = {
    "ImageNet-ResNet18V1": ("resnet18", False), "ImageNet-ResNet18V2": ("resnet18", True),
    "ImageNet-ResNet34V1": ("resnet34", False), "ImageNet-ResNet34V2": ("resnet34", True),
    "ImageNet-ResNet50V1": ("resnet50", False), "ImageNet-ResNet50V2": ("resnet50", True),
    "ImageNet-ResNet101V1": ("resnet101", False), "ImageNet-ResNet101V2": ("resnet101", True),
    "ImageNet-ResNet152V1": ("resnet152", False), "ImageNet-ResNet152V2": ("resnet152", True),
    "ImageNet-ResNext50-32x4dV2": ("resnext50_32x4d", True),
}
# the deep stem (3x3 convolutions 3->32 stride 2, 32->32, 32->64 at 112x112) instead of the 7x7 3->64 stride 2
DEEP_STEM_EXTRA_MACS = (3 * 3 * 3 * 32 + 3 * 3 * 32 * 32 + 3 * 3 * 32 * 64 - 7 * 7 * 3 * 64) * 112 * 112


ORIGINAL_ARCHS = [
    "CIFAR-DenseBC100-12", "CIFAR-ResNet08", "CIFAR-ResNet1001", "CIFAR-ResNet110", "CIFAR-ResNet164",
    "CIFAR-ResNet20", "CIFAR-ResNet32", "CIFAR-ResNet56", "CIFAR-WRN28-10", "ImageNet-MobileNetV2",
    "ImageNet-MobileNetV2-X", "ImageNet-ResNet101V1", "ImageNet-ResNet101V2", "ImageNet-ResNet152V1",
    "ImageNet-ResNet152V2", "ImageNet-ResNet18V1", "ImageNet-ResNet18V2", "ImageNet-ResNet200V1",
    "ImageNet-ResNet200V2", "ImageNet-ResNet34V1", "ImageNet-ResNet34V2", "ImageNet-ResNet50V1",
    "ImageNet-ResNet50V2", "ImageNet-ResNext50-32x4dV2",
]


@lru_cache(maxsize=None)
def build(name: str, num_classes: int) -> nn.Module:
    torch.manual_seed(0)
    return create_model(CONFIGS / "archs" / f"{name}.json", num_classes=num_classes)


@pytest.mark.parametrize("key", sorted(PARAMETERS))
def test_parameter_counts(key):
    model = build(*key)
    assert count_parameters(model) == PARAMETERS[key]
    if key in SPEC_MPARAMS:
        decimals = len(str(SPEC_MPARAMS[key]).split(".")[1])
        assert round(count_parameters(model) / 1e6, max(decimals, 2)) == pytest.approx(SPEC_MPARAMS[key])


@pytest.mark.parametrize("key", sorted(CIFAR_MFLOPS))
def test_cifar_flops(key):
    mflops, mparams = get_model_infos(build(*key), CIFAR)
    assert round(mflops, 2) == pytest.approx(CIFAR_MFLOPS[key])
    assert mparams == PARAMETERS[key] / 1e6


def test_resnet20_flops_to_three_decimals():
    assert round(get_model_infos(build("CIFAR-ResNet20", 10), CIFAR)[0], 3) == pytest.approx(40.813)


def test_mobilenet_v2_flops():
    # 300.775 M multiply-accumulates; the original's table truncates this to 0.300 G
    mflops, _ = get_model_infos(build("ImageNet-MobileNetV2", 1000), IMAGENET)
    assert mflops == pytest.approx(300.775272, abs=1e-6)
    assert int(mflops) / 1000 == 0.300


@pytest.mark.slow
@pytest.mark.parametrize("key", sorted(SLOW_FLOPS))
def test_slow_flops(key):
    expected, decimals, shape = SLOW_FLOPS[key]
    mflops, _ = get_model_infos(build(*key), shape)
    value = mflops if shape == CIFAR else mflops / 1000
    assert round(value, decimals) == pytest.approx(expected)


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow if "10" in n or "15" in n else ())
                                  for n in sorted(TORCHVISION_TWINS)])
def test_imagenet_flops_equal_torchs_count_of_the_torchvision_network(name):
    """Independent of the library's counter: torch's FlopCounterMode (2 FLOPs per multiply-accumulate, the
    classifier's 1,000 bias additions left out) on torchvision's network, plus the closed-form cost of the
    deep stem for the V2 configs; the V1 counts also round to torchvision's published GFLOPs.  (The spec's
    table truncates three of these: 2.053, 3.663 and 4.328 for 2.0537, 3.6638 and 4.3288.)"""
    import torchvision
    from torch.utils.flop_counter import FlopCounterMode

    builder, deep_stem = TORCHVISION_TWINS[name]
    reference = getattr(torchvision.models, builder)().eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        reference(torch.rand(IMAGENET))
    expected = counter.get_total_flops() // 2 + 1000 + (DEEP_STEM_EXTRA_MACS if deep_stem else 0)
    mflops, _ = get_model_infos(build(name, 1000), IMAGENET)
    assert round(mflops * 1e6) == expected
    if not deep_stem:
        weights = torchvision.models.get_model_weights(builder).IMAGENET1K_V1
        assert round(mflops / 1000, 3) == weights.meta["_ops"]


def test_every_original_arch_has_a_json_twin():
    present = {p.stem for p in (CONFIGS / "archs").glob("*.json")}
    assert set(ORIGINAL_ARCHS) <= present


def test_v1_and_v2_differ_only_in_the_stem():
    v1, v2 = build("ImageNet-ResNet50V1", 1000), build("ImageNet-ResNet50V2", 1000)
    assert len(v1.stem) == 2 and len(v2.stem) == 4  # (7x7 conv, max-pool) vs (three 3x3 convs, max-pool)
    assert count_parameters(v2) - count_parameters(v1) == (864 + 64) + (9216 + 64) + (18432 + 128) - (9408 + 128)
    assert count_parameters(v1.layers) == count_parameters(v2.layers)


def test_stride2_shortcuts_average_pool_first():
    shortcut = build("ImageNet-ResNet18V1", 1000).layers[2].shortcut
    assert [type(m) for m in shortcut] == [nn.AvgPool2d, nn.Conv2d, nn.BatchNorm2d]
    cifar_shortcut = build("CIFAR-ResNet20", 10).layers[3].shortcut
    assert [type(m) for m in cifar_shortcut] == [nn.AvgPool2d, nn.Conv2d]


@pytest.mark.parametrize("config,shape,classes", [
    ({"name": "cifar-resnet", "depth": 20}, (2, 3, 32, 32), 10),
    ({"name": "cifar-resnet", "depth": 29, "block": "bottleneck"}, (2, 3, 32, 32), 100),
    ({"name": "densenet", "depth": 22, "growth_rate": 12}, (2, 3, 32, 32), 10),
    ({"name": "imagenet-resnet", "block": "basic", "layers": [1, 1, 1, 1], "deep_stem": True}, (2, 3, 64, 64), 7),
    ({"name": "imagenet-resnet", "block": "bottleneck", "layers": [1, 1, 1, 1], "groups": 32, "width_per_group": 4},
     (2, 3, 64, 64), 5),
    ({"name": "mobilenet-v2", "width_mult": 0.5}, (2, 3, 32, 32), 3),
])
def test_forward_returns_features_and_logits(config, shape, classes):
    torch.manual_seed(0)
    model = create_model(config, num_classes=classes)
    model.train()
    features, logits = model(torch.randn(*shape))
    assert logits.shape == (shape[0], classes)
    assert features.shape == (shape[0], model.head.classifier.in_features)
    logits.sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_wide_resnet_forward_and_dropout():
    model = create_model({"name": "wide-resnet", "depth": 10, "wide_factor": 2, "dropout": 0.3}, num_classes=4)
    features, logits = model(torch.randn(2, 3, 32, 32))
    assert features.shape == (2, 128) and logits.shape == (2, 4)
    assert any(isinstance(m, nn.Dropout) and m.p == 0.3 for m in model.modules())


def test_zero_init_residual():
    model = build("ImageNet-ResNet34V1", 1000)  # the config sets zero_init_residual
    assert all(torch.all(block.last_bn.weight == 0) for block in model.layers)
    plain = create_model(CONFIGS / "archs" / "ImageNet-ResNet18V1.json", zero_init_residual=False)
    assert all(torch.all(block.last_bn.weight == 1) for block in plain.layers)
    cifar = create_model(CONFIGS / "archs" / "CIFAR-ResNet20.json", zero_init_residual=True)
    assert all(torch.all(block.last_bn.weight == 0) for block in cifar.layers)


def test_any_valid_cifar_depth():
    assert len(create_model({"name": "cifar-resnet", "depth": 44}).layers) == 3 * 7
    assert len(create_model({"name": "cifar-resnet", "depth": 29, "block": "bottleneck"}).layers) == 3 * 3


@pytest.mark.parametrize("config", [
    {"name": "cifar-resnet", "depth": 21},
    {"name": "cifar-resnet", "depth": 1001, "block": "basic"},
    {"name": "cifar-resnet", "depth": 20, "block": "pyramid"},
    {"name": "cifar-resnet", "depth": 2},
    {"name": "cifar-resnet", "depth": 20, "num_classes": 0},
    {"name": "wide-resnet", "depth": 27},
    {"name": "wide-resnet", "depth": 28, "wide_factor": 0},
    {"name": "densenet", "depth": 101},
    {"name": "densenet", "depth": 100, "reduction": 0.0},
    {"name": "imagenet-resnet", "block": "bottleneck", "layers": [3, 4, 6]},
    {"name": "imagenet-resnet", "block": "basic", "layers": [2, 2, 2, 2], "groups": 32, "width_per_group": 4},
    {"name": "imagenet-resnet", "block": "dense", "layers": [2, 2, 2, 2]},
    {"name": "mobilenet-v2", "dropout": 1.0},
])
def test_invalid_configs_raise_one_line_config_error(config):
    with pytest.raises(ConfigError) as error:
        create_model(config)
    assert "\n" not in str(error.value)


ORIGINAL_OPTS = {  # name -> (total epochs, LR, weight decay, scheduler, criterion, label smoothing, auxiliary)
    "CIFAR-E300-W5-L1-COS": (305, 0.1, 5e-4, "cos", "Softmax", 0.0, -1.0),
    "CIFAR-E300-W5-L4-COS": (305, 0.4, 5e-4, "cos", "Softmax", 0.0, -1.0),
    "CIFAR-E600-W5-L1-COS": (605, 0.1, 5e-4, "cos", "Softmax", 0.0, -1.0),
    "CIFAR-Fast-Random": (105, 0.1, 5e-4, "cos", "Softmax", 0.0, -1.0),
    "CIFAR-Slow-Random": (305, 0.1, 5e-4, "cos", "Softmax", 0.0, -1.0),
    "Com-Paddle-NAS": (600, 0.025, 5e-4, "cos", "Softmax", 0.0, 0.4),
    "Com-Paddle-RES": (305, 0.1, 5e-4, "cos", "Softmax", 0.0, -1.0),
    "ImageNet-E120-Cos-Soft": (125, 0.1, 1e-4, "cos", "Softmax", 0.0, -1.0),
    "ImageNet-E120-Cos-Smooth": (125, 0.1, 1e-4, "cos", "SmoothSoftmax", 0.1, -1.0),
    "ImageNet-E120-Step-Soft": (125, 0.1, 1e-4, "multistep", "Softmax", 0.0, -1.0),
    "ImageNet-E150-MobileFast": (150, 0.05, 4e-5, "cos", "Softmax", 0.0, -1.0),
    "ImageNet-E150-MobileFastS": (150, 0.05, 4e-5, "cos", "SmoothSoftmax", 0.1, -1.0),
    "ImageNet-E240-Shuffle": (240, 0.5, 4e-5, "linear", "SmoothSoftmax", 0.1, -1.0),
    "ImageNet-E480-MobileS": (480, 0.045, 4e-5, "exponential", "SmoothSoftmax", 0.1, -1.0),
    "NAS-CIFAR": (300, 0.025, 5e-4, "cos", "Softmax", 0.0, 0.4),
    "NAS-CIFAR-V2": (600, 0.025, 3e-4, "cos", "Softmax", 0.0, 0.4),
    "NAS-IMAGENET": (250, 0.1, 3e-5, "cos", "SmoothSoftmax", 0.1, 0.4),
}


@pytest.mark.parametrize("name", sorted(ORIGINAL_OPTS))
def test_optimiser_recipes_load(name):
    config = load_config(OptimConfig, CONFIGS / "opts" / f"{name}.json")
    got = (config.total_epochs, config.LR, config.decay, config.scheduler, config.criterion,
           config.label_smooth, config.auxiliary)
    assert got == ORIGINAL_OPTS[name]
    assert config.optim == "SGD" and config.momentum == 0.9
    assert config.nesterov is ("Mobile" not in name)


def test_step_recipe_milestones():
    config = load_config(OptimConfig, CONFIGS / "opts" / "ImageNet-E120-Step-Soft.json")
    assert config.milestones == [30, 60, 90] and config.gammas == [0.1, 0.1, 0.1]


NAS_TWINS = {  # spec 7.4 parameters (M, auxiliary head excluded) of the NASNet-space configs
    "NAS-CIFAR-DARTS": 3.3493, "NAS-CIFAR-GDAS_V1": 3.3688, "NAS-CIFAR-NAS": 3.2460, "NAS-CIFAR-SETN": 4.6192,
    "NAS-IMAGENET-DARTS_V2": 4.7188, "NAS-IMAGENET-GDAS_V1": 5.3451, "NAS-IMAGENET-SETN": 5.3405,
}


@pytest.mark.parametrize("name", sorted(NAS_TWINS))
def test_nas_config_twins(name):
    model = create_model(CONFIGS / "archs" / f"{name}.json")
    assert round(count_parameters(model) / 1e6, 4) == pytest.approx(NAS_TWINS[name])


@pytest.mark.parametrize("name", ["NAS-CIFAR-none", "NAS-IMAGENET-none"])
def test_nas_none_twins_need_a_genotype(name):
    with pytest.raises(ConfigError, match="genotype"):
        create_model(CONFIGS / "archs" / f"{name}.json")
    # with a genotype it is that genotype's network at the twin's width (C=33 on CIFAR, as the original)
    config = json.loads((CONFIGS / "archs" / f"{name}.json").read_text())
    with_genotype = create_model(CONFIGS / "archs" / f"{name}.json", genotype="GDAS_V1")
    named = create_model(CONFIGS / "archs" / f"{name.replace('none', 'GDAS_V1')}.json", C=config["C"])
    assert [(k, v.shape) for k, v in with_genotype.state_dict().items()] == \
        [(k, v.shape) for k, v in named.state_dict().items()]
