"""TAS on torchvision ResNets: searched by name, built as plain torchvision models, loadable without autodl."""
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torchvision

from autodl.cli import run_main
from autodl.engine import count_flops, count_parameters
from autodl.errors import ConfigError
from autodl.models import create_model

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("arch", ["resnet18", "resnet50"])
def test_the_unpruned_shape_is_torchvisions_resnet(arch):
    ours = create_model({"name": "shape-torchvision-resnet", "arch": arch})
    reference = getattr(torchvision.models, arch)()
    assert type(ours) is type(reference) and count_parameters(ours) == count_parameters(reference)
    ours.load_state_dict(reference.state_dict())  # same names and shapes, in the same order
    ours.eval(), reference.eval()
    x = torch.randn(1, 3, 64, 64)
    assert torch.equal(ours(x), reference(x))
    search = create_model({"name": "search.shape-torchvision-resnet", "arch": arch})
    assert count_flops(search, (1, 3, 224, 224)) == count_flops(reference, (1, 3, 224, 224))


def width_only(arch, width_index):
    net = create_model({"name": "search.shape-torchvision-resnet", "arch": arch, "num_classes": 10, "mode": "width",
                        "input_size": 64})
    with torch.no_grad():
        net.width_logits.fill_(-30.0)
        net.width_logits[:, width_index] = 30.0
    return net


def test_a_found_shape_is_a_torchvision_resnet_whose_flops_the_search_estimated():
    net = width_only("resnet18", 2)
    config = net.shape_config()
    model = create_model(config)
    assert isinstance(model, torchvision.models.ResNet) and model.conv1.out_channels == 32
    counted = count_flops(model, (1, 3, 64, 64)) / 1e6
    assert config["estimated_FLOP"] + 10 / 1e6 == pytest.approx(counted, abs=1e-6)  # + the classifier bias
    assert net.expected_mflops().item() + 10 / 1e6 == pytest.approx(counted, rel=1e-6)


def test_a_pruned_torchvision_resnet_loads_and_runs_without_autodl(tmp_path):
    config = width_only("resnet18", 1).shape_config()
    config["xblocks"] = [1, 2, 1, 2]
    model = create_model(config).eval()
    path = tmp_path / "pruned.pt"
    torch.save(model, path)
    expected = model(torch.ones(1, 3, 64, 64))
    torch.save(expected, tmp_path / "expected.pt")
    script = ("import sys, torch; sys.modules['autodl'] = None\n"  # any import of autodl would now fail
              f"model = torch.load({str(path)!r}, weights_only=False).eval()\n"
              f"expected = torch.load({str(tmp_path / 'expected.pt')!r})\n"
              "print(type(model).__module__, torch.equal(model(torch.ones(1, 3, 64, 64)), expected))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["torchvision.models.resnet", "True"]


def test_search_shape_takes_a_torchvision_name(tmp_path, capsys):
    main = runpy.run_path(str(ROOT / "exps" / "search-shape.py"))["main"]
    argv = ["--dataset", "digits16", "--model", "resnet18", "--optim", str(ROOT / "configs" / "search-opts" / "digits-TAS.json"),
            "--save-dir", str(tmp_path / "run"), "--epochs", "1", "--batch-size", "128", "--seed", "3", "--quiet"]
    with pytest.raises(SystemExit) as exit_info:
        run_main(main, argv)
    assert exit_info.value.code == 0, capsys.readouterr().err
    best = create_model(tmp_path / "run" / "seed-3-best.json")
    assert isinstance(best, torchvision.models.ResNet) and best(torch.zeros(2, 3, 16, 16)).shape == (2, 10)
    with pytest.raises(ConfigError, match="unknown torchvision ResNet"):
        create_model({"name": "shape-torchvision-resnet", "arch": "resnet19"})
