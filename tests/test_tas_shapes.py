"""TAS inference networks: the shipped searched shapes (configs/NeurIPS-2019) and the shape builders."""
from pathlib import Path

import pytest

from autodl.engine import count_flops, count_parameters, get_model_infos
from autodl.errors import ConfigError
from autodl.models import create_model
from autodl.models.mobilenet import INVERTED_RESIDUAL_SETTING

SHAPES = Path(__file__).resolve().parents[1] / "configs" / "NeurIPS-2019"

# spec 7.5: (classes the shape was searched for, measured MFLOPs, M parameters, xblocks, estimated_FLOP in the file)
SHIPPED = {
    "C010-ResNet20": (10, 22.44, 0.2281, [3, 3, 3], 22.444),
    "C010-ResNet32": (10, 34.95, 0.3205, [5, 5, 5], 34.945),
    "C010-ResNet56": (10, 59.86, 0.4493, [5, 5, 5], 57.933),
    "C010-ResNet110": (10, 119.26, 0.7959, [11, 11, 9], 117.498),
    "C010-ResNet164": (10, 178.07, 1.2779, [13, 15, 13], 173.024),
    "C100-ResNet20": (100, 22.43, 0.2412, [3, 3, 3], 22.434),
    "C100-ResNet32": (100, 42.47, 0.4273, [5, 5, 5], 42.47),
    "C100-ResNet56": (100, 61.23, 0.4710, [5, 5, 7], 59.473),
    "C100-ResNet110": (100, 119.58, 0.8437, [13, 9, 11], 117.653),
    "C100-ResNet164": (100, 171.14, 1.3253, [15, 15, 15], 165.584),
}


# spec 7.5: (measured MFLOPs, M parameters, xblocks, estimated_FLOP in the file), all at 1000 classes
SHIPPED_IMAGENET = {
    "ImageNet-ResNet18V1": (1210.76, 11.2751, [1, 1, 2, 2], 1120.44),
    "ImageNet-ResNet50V1": (2309.25, 18.6244, [3, 4, 5, 3], 2291.32),
}


def test_every_shipped_shape_has_a_config_and_a_golden_number():
    shipped = {p.stem for p in SHAPES.glob("*.json")}
    assert shipped == set(SHIPPED) | set(SHIPPED_IMAGENET)


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_cifar_shape_has_the_originals_parameters_and_flops_for_10_and_100_classes(name):
    classes, mflops, mparams, xblocks, estimate = SHIPPED[name]
    path = SHAPES / f"{name}.json"
    models = {k: create_model(path, num_classes=k) for k in (10, 100)}
    flops, params = get_model_infos(models[classes], (1, 3, 32, 32))
    assert round(flops, 2) == mflops and round(params, 4) == mparams
    assert round(models[classes].estimated_flops, 3) == estimate  # the search's own estimate, kept apart
    # the other class count changes only the classifier: (K' - K) * (C_last + 1) parameters and MACs
    other = 110 - classes
    last = models[classes].head.classifier.in_features
    assert count_parameters(models[other]) - count_parameters(models[classes]) == (other - classes) * (last + 1)
    shape = (1, 3, 32, 32)
    assert count_flops(models[other], shape) - count_flops(models[classes], shape) == (other - classes) * (last + 1)
    assert sum(1 for _ in models[classes].layers) == sum(xblocks)


@pytest.mark.parametrize("name", sorted(SHIPPED_IMAGENET))
def test_shipped_imagenet_shape_has_the_originals_parameters_and_flops(name):
    mflops, mparams, xblocks, estimate = SHIPPED_IMAGENET[name]
    model = create_model(SHAPES / f"{name}.json")
    flops, params = get_model_infos(model, (1, 3, 224, 224))
    assert (round(flops, 2), round(params, 4)) == (mflops, mparams)
    assert round(model.estimated_flops, 2) == estimate
    assert len(model.layers) == sum(xblocks)


def test_unpruned_shapes_equal_the_base_resnets():
    # the original's bottleneck shape net projects a stride-1 width change without BN: ResNet-164 differs from
    # the base network by the BN of the first block's 64-channel shortcut only
    for depth, block, bn_difference in ((20, "basic", 0), (164, "bottleneck", 2 * 64)):
        base = create_model({"name": "cifar-resnet", "depth": depth, "block": block})
        shape = create_model({"name": "shape-cifar-resnet", "depth": depth, "block": block})
        assert count_parameters(base) - count_parameters(shape) == bn_difference
        assert count_flops(shape, (1, 3, 32, 32)) == count_flops(base, (1, 3, 32, 32))
    base = create_model("configs/archs/ImageNet-ResNet18V1.json")
    shape = create_model({"name": "shape-imagenet-resnet", "block": "basic", "layers": [2, 2, 2, 2]})
    assert count_parameters(shape) == count_parameters(base)


def test_depth_only_and_width_only_shapes():
    depth_only = create_model({"name": "shape-cifar-resnet", "depth": 56, "xblocks": [1, 9, 3]})
    assert len(depth_only.layers) == 13
    base = create_model({"name": "cifar-resnet", "depth": 20})
    # ResNet-56 cut to 3 blocks per stage is ResNet-20 (its widths come from the base network)
    assert count_parameters(create_model({"name": "shape-cifar-resnet", "depth": 56, "xblocks": [3, 3, 3]})) == \
        count_parameters(base)
    width_only = create_model({"name": "shape-cifar-resnet", "depth": 20, "xchannels": [3, 8] + [8] * 6 + [16] * 6 + [32] * 6})
    assert len(width_only.layers) == 9
    features, logits = width_only(__import__("torch").zeros(2, 3, 32, 32))
    assert features.shape == (2, 32) and logits.shape == (2, 10)


def mobilenet_channels() -> str:
    groups, channels = ["3-32"], 32
    for expansion, width, repeats, _ in INVERTED_RESIDUAL_SETTING:
        for _ in range(repeats):
            groups.append(f"{channels}-{width}" if expansion == 1 else f"{channels}-{channels * expansion}-{width}")
            channels = width
    return " ".join(groups + ["320-1280"])


def test_mobilenet_v2_with_the_standard_channels_is_mobilenet_v2():
    shape = create_model({"name": "shape-mobilenet-v2", "xchannels": mobilenet_channels(), "xblocks": [1, 2, 3, 4, 3, 3, 1]})
    base = create_model({"name": "mobilenet-v2"})
    assert count_parameters(shape) == count_parameters(base) == 3504872
    assert count_flops(shape, (1, 3, 224, 224)) == count_flops(base, (1, 3, 224, 224))
    shorter = create_model({"name": "shape-mobilenet-v2", "xchannels": mobilenet_channels(), "xblocks": [1, 1, 1, 1, 1, 1, 1]})
    assert len(shorter.features) == 7 + 2


@pytest.mark.parametrize("config, message", [
    ({"name": "shape-cifar-resnet", "depth": 20, "xchannels": [3, 16, 16]}, "xchannels must hold 20"),
    ({"name": "shape-cifar-resnet", "depth": 20, "xblocks": [4, 3, 3]}, "xblocks must give"),
    ({"name": "shape-cifar-resnet", "depth": 20, "block": "wide"}, "unknown block"),
    ({"name": "shape-mobilenet-v2", "xchannels": "3-32 x", "xblocks": [1] * 7}, "groups of positive widths"),
])
def test_bad_shapes_raise_one_line_config_errors(config, message):
    with pytest.raises(ConfigError, match=message):
        create_model(config)
