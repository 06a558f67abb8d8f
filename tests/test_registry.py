import json
from pathlib import Path

import pytest

from autodl.errors import ConfigError, RegistryError
from autodl.models import MODELS, create_model
from autodl.registry import Registry


def test_registry_rejects_duplicates_and_lists_names():
    registry = Registry("widget")
    registry.register("a", 1)

    @registry.register("b")
    def b():
        return 2

    assert registry.get("a") == 1 and registry.names() == ["a", "b"] and "b" in registry
    with pytest.raises(RegistryError, match="widget 'a' is already registered"):
        registry.register("a", 3)
    with pytest.raises(RegistryError, match="unknown widget 'c'; expected one of: a, b"):
        registry.get("c")


def test_create_model_from_dict_path_and_overrides(tmp_path):
    model = create_model({"name": "small-cnn", "channels": 4}, num_classes=7)
    assert model.classifier.out_features == 7
    path = tmp_path / "model.json"
    path.write_text(json.dumps({"name": "small-cnn", "channels": 4}))
    assert create_model(path, num_classes=3).classifier.out_features == 3


def test_create_model_errors(tmp_path):
    with pytest.raises(ConfigError, match="unknown key 'width'; expected keys: num_classes, channels"):
        create_model({"name": "small-cnn", "width": 4})
    with pytest.raises(ConfigError, match="missing 'name'"):
        create_model({"channels": 4})
    with pytest.raises(RegistryError, match="unknown model 'nope'"):
        create_model({"name": "nope"})


ARCH_CONFIGS = sorted((Path(__file__).resolve().parents[1] / "configs" / "archs").glob("*.json"))


def test_every_registered_model_has_a_config_twin():
    names = {json.loads(path.read_text())["name"] for path in ARCH_CONFIGS}
    assert set(MODELS.names()) <= names, sorted(set(MODELS.names()) - names)




@pytest.mark.parametrize("path", ARCH_CONFIGS, ids=lambda p: p.stem)
def test_every_config_twin_builds_and_returns_features_and_logits(path):
    import torch

    from autodl.engine import count_parameters

    overrides = {"num_classes": 10}
    if "genotype" not in json.loads(path.read_text()) and json.loads(path.read_text())["name"].startswith("nasnet"):
        overrides["genotype"] = "DARTS_V2"  # the *-none twins take the genotype from the command line
    model = create_model(path, **overrides).eval()
    assert 10 in {m.out_features for m in model.modules() if isinstance(m, torch.nn.Linear)}  # num_classes reached the head
    if count_parameters(model) < 1_000_000:  # bigger nets are exercised by their own test files
        size = 64 if "ImageNet" in path.stem or "IMAGENET" in path.stem else 32
        arch_inputs = {}
        if hasattr(model, "extra_arch_parameters"):  # a cell supernet: the protocol's weighted forward
            arch_inputs = {"weights": [torch.softmax(a, dim=-1) for a in model.arch_parameters()],
                           **model.extra_arch_parameters()}
        with torch.no_grad():
            features, logits = model(torch.randn(2, 3, size, size), **arch_inputs)
        assert logits.shape == (2, 10) and features.shape[0] == 2
