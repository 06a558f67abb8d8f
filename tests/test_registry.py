import json

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


@pytest.mark.parametrize("name", ["small-cnn"])
def test_registered_models_build_and_return_features_and_logits(name):
    import torch

    assert name in MODELS
    features, logits = create_model({"name": name}, num_classes=10)(torch.randn(2, 3, 32, 32))
    assert logits.shape == (2, 10) and features.shape[0] == 2
