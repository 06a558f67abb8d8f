"""NASNet-space inference networks: golden FLOPs/params (spec 7.4), same-input ops, aux head, drop-path."""
import pytest
import torch
from torch import nn

from autodl.engine import count_parameters, get_model_infos
from autodl.errors import ConfigError
from autodl.models import create_model
from autodl.models.nasnet import InferCell, drop_path
from autodl.spaces.artifact import save_artifact
from autodl.spaces.nasnet import Genotype, SpaceError, get_genotype





# (model, genotype, C, N, classes, resolution, MFLOPs, Mparams) from spec 7.4; params exclude the aux head.
SPEC_ROWS = [
    ("nasnet-cifar", "DARTS_V2", 36, 6, 10, 32, 528.36, 3.3493),
    ("nasnet-cifar", "DARTS_V1", 36, 6, 10, 32, 500.99, 3.1694),
    ("nasnet-cifar", "GDAS_V1", 36, 6, 10, 32, 519.43, 3.3688),
    ("nasnet-cifar", "GDAS_V1", 36, 6, 100, 32, 519.48, 3.4207),
    ("nasnet-cifar", "SETN", 36, 6, 10, 32, 722.39, 4.6192),
    ("nasnet-cifar", "SETN", 36, 6, 100, 32, 722.44, 4.6711),
    ("nasnet-cifar", "NASNet", 33, 6, 10, 32, 512.51, 3.2460),
    ("nasnet-cifar", "PNASNet", 36, 6, 10, 32, 706.03, 4.4811),
    ("nasnet-imagenet", "DARTS_V2", 48, 4, 1000, 224, 529.91, 4.7188),
    ("nasnet-imagenet", "GDAS_V1", 50, 4, 1000, 224, 581.01, 5.3451),
    ("nasnet-imagenet", "SETN", 58, 2, 1000, 224, 599.75, 5.3405),
    ("nasnet-imagenet", "SETN", 73, 1, 1000, 224, 597.04, 5.2441),
    ("nasnet-imagenet", "SETN", 49, 3, 1000, 224, 584.10, 5.2619),
    ("nasnet-imagenet", "SETN", 44, 4, 1000, 224, 599.42, 5.3942),
]


@pytest.mark.parametrize("name, genotype, C, N, classes, size, mflops, mparams", SPEC_ROWS)
def test_flops_and_params_match_the_spec(name, genotype, C, N, classes, size, mflops, mparams):
    # One forward at batch 1 on one thread: about a second per row, even at 224 x 224.
    model = create_model({"name": name, "genotype": genotype, "C": C, "N": N, "num_classes": classes})
    flops, params = get_model_infos(model, (1, 3, size, size))
    assert round(flops, 2) == mflops
    assert round(params, 4) == mparams


def small_cifar(**overrides):
    config = {"name": "nasnet-cifar", "genotype": "DARTS_V2", "C": 8, "N": 1, "num_classes": 10}
    config.update(overrides)
    return create_model(config)


def test_cifar_forward_backward_with_auxiliary_head():
    torch.manual_seed(0)
    model = small_cifar()
    assert model.auxiliary_head is not None
    inputs = torch.randn(2, 3, 32, 32)
    features, (logits, aux_logits) = model(inputs)
    assert features.shape == (2, 4 * 4 * 8) and logits.shape == (2, 10) and aux_logits.shape == (2, 10)
    (logits.logsumexp(1).sum() + 0.4 * aux_logits.logsumexp(1).sum()).backward()
    assert all(p.grad is not None for p in model.parameters())
    model.eval()
    with torch.no_grad():
        features, logits = model(inputs)
    assert isinstance(logits, torch.Tensor) and logits.shape == (2, 10)


def test_auxiliary_head_off_and_excluded_from_counts():
    with_aux, without_aux = small_cifar(auxiliary=True), small_cifar(auxiliary=False)
    assert without_aux.auxiliary_head is None
    assert count_parameters(with_aux) == count_parameters(without_aux)
    aux_params = sum(p.numel() for p in with_aux.auxiliary_head.parameters())
    assert sum(p.numel() for p in with_aux.parameters()) == count_parameters(without_aux) + aux_params
    _, logits = without_aux(torch.randn(2, 3, 32, 32))
    assert isinstance(logits, torch.Tensor)


def test_small_inputs_need_auxiliary_off():
    model = small_cifar()
    with pytest.raises(ConfigError, match="too small for its 5x5 pooling"):
        model(torch.randn(2, 3, 16, 16))
    model.eval()
    _, logits = model(torch.randn(2, 3, 16, 16))
    assert logits.shape == (2, 10)


def test_imagenet_forward_at_224():
    torch.manual_seed(0)
    model = create_model({"name": "nasnet-imagenet", "genotype": "SETN", "C": 8, "N": 1, "num_classes": 5})
    features, (logits, aux_logits) = model(torch.randn(2, 3, 224, 224))
    assert features.shape == (2, 4 * 4 * 8) and logits.shape == aux_logits.shape == (2, 5)
    assert model.drop_path_max == 0.0


def test_two_ops_from_the_same_input_are_both_kept():
    nasnet = get_genotype("NASNet")  # normal node 1 (state 3) = sep_conv_5x5(0) + sep_conv_3x3(0)
    cell = InferCell(nasnet, 16, 16, 8, reduction=False, reduction_prev=False)
    assert len(cell.ops) == 10 and cell.inputs[2:4] == [0, 0]
    kernels = [module.kernel_size for module in cell.ops[2].modules() if isinstance(module, nn.Conv2d)]
    assert kernels[0] == (5, 5)
    kernels = [module.kernel_size for module in cell.ops[3].modules() if isinstance(module, nn.Conv2d)]
    assert kernels[0] == (3, 3)
    twice = Genotype([[("sep_conv_3x3", 0), ("sep_conv_3x3", 0)]], [2], [[("skip_connect", 0)]], [2])
    once = Genotype([[("sep_conv_3x3", 0)]], [2], [[("skip_connect", 0)]], [2])
    size = lambda genotype: count_parameters(InferCell(genotype, 8, 8, 8, False, False))  # noqa: E731
    sep_conv = count_parameters(InferCell(once, 8, 8, 8, False, False)) - 2 * (8 * 8 + 2 * 8)
    assert size(twice) - size(once) == sep_conv > 0
    out = InferCell(twice, 8, 8, 8, False, False)(torch.randn(1, 8, 6, 6), torch.randn(1, 8, 6, 6))
    assert out.shape == (1, 8, 6, 6)


def test_drop_path_only_in_training_mode():
    torch.manual_seed(0)
    model = small_cifar(auxiliary=False, drop_path_prob=0.3)
    assert model.drop_path_max == 0.3 and model.drop_path_prob == 0.0
    inputs = torch.randn(4, 3, 32, 32)
    model.train()
    _, first = model(inputs)
    _, second = model(inputs)
    assert torch.equal(first, second)  # drop_path_prob is 0 until the engine sets it
    model.drop_path_prob = 0.5
    _, first = model(inputs)
    _, second = model(inputs)
    assert not torch.allclose(first, second)
    model.eval()
    with torch.no_grad():
        _, dropped = model(inputs)
        model.drop_path_prob = 0.0
        _, clean = model(inputs)
    assert torch.equal(dropped, clean)


def test_drop_path_zeroes_whole_samples_and_rescales():
    torch.manual_seed(0)
    out = drop_path(torch.ones(4000, 2, 3, 3), 0.25)
    per_sample = out.flatten(1)
    assert set(per_sample.unique().tolist()) <= {0.0, torch.tensor(4 / 3).item()}
    assert torch.all(per_sample.min(1).values == per_sample.max(1).values)
    assert abs(per_sample[:, 0].mean().item() - 1.0) < 0.05


def test_genotype_sources(tmp_path):
    path = tmp_path / "arch.json"
    save_artifact(path, get_genotype("GDAS_V1"), algorithm="GDAS", dataset="cifar10", seed=1)
    reference = small_cifar(genotype="GDAS_V1")
    for genotype in (path, str(path), get_genotype("GDAS_V1"), get_genotype("GDAS_V1").to_dict()):
        model = small_cifar(genotype=genotype)
        assert model.genotype == get_genotype("GDAS_V1")
        assert count_parameters(model) == count_parameters(reference)


def test_create_model_from_a_config_file_with_an_artifact(tmp_path):
    artifact = tmp_path / "arch.json"
    save_artifact(artifact, get_genotype("SETN"), algorithm="SETN", dataset="cifar10")
    config = tmp_path / "model.json"
    config.write_text('{"name": "nasnet-cifar", "genotype": "%s", "C": 8, "N": 1}' % artifact)
    assert create_model(config).genotype == get_genotype("SETN")


@pytest.mark.parametrize("overrides, error, message", [
    ({"genotype": "ENAS"}, SpaceError, "neither a published genotype name nor an existing artifact"),
    ({"genotype": 3}, ConfigError, "expected a published genotype name"),
    ({"C": 0}, ConfigError, "C=0 is invalid"),
    ({"N": 1.5}, ConfigError, "N=1.5 is invalid"),
    ({"drop_path_prob": 1.0}, ConfigError, "drop_path_prob=1.0 is invalid"),
])
def test_bad_configs(overrides, error, message):
    with pytest.raises(error, match=message):
        small_cifar(**overrides)


def test_nb201_artifact_is_refused(tmp_path):
    path = tmp_path / "nb201.json"
    save_artifact(path, "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|avg_pool_3x3~2|",
                  algorithm="RS", dataset="cifar10")
    with pytest.raises(SpaceError, match="needs an artifact of space 'nasnet'"):
        small_cifar(genotype=path)
