import json
from importlib.util import module_from_spec, spec_from_file_location
from pathlib import Path

import pytest

from autodl.cli import run_main
from autodl.errors import ConfigError
from autodl.models.searched import resolve_searched_arch, searched_model_config
from autodl.spaces.artifact import save_artifact
from autodl.spaces.nasnet import get_genotype
from autodl.spaces.nb201 import Arch

ROOT = Path(__file__).resolve().parents[1]
RESNET_CELL = "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|"


def test_searched_model_configs_are_the_paper_networks(tmp_path):
    darts = searched_model_config("DARTS_V2")
    assert darts["name"] == "nasnet-cifar" and (darts["C"], darts["N"], darts["drop_path_prob"]) == (36, 6, 0.2)
    assert searched_model_config("GDAS_V1", imagenet=True)["name"] == "nasnet-imagenet"
    assert searched_model_config(RESNET_CELL) == {"name": "infer.tiny", "C": 16, "N": 5, "arch_str": RESNET_CELL}
    artifact = tmp_path / "arch.json"
    save_artifact(artifact, Arch.from_str(RESNET_CELL), algorithm="test", dataset="digits", seed=1)
    assert resolve_searched_arch(artifact) == Arch.from_str(RESNET_CELL)
    with pytest.raises(ConfigError, match="is not a published genotype"):
        resolve_searched_arch("DARTS_V9")


def train_searched():
    """exps/train-searched.py as a module, run in this process (two trainings need no interpreter starts)."""
    spec = spec_from_file_location("train_searched", ROOT / "exps" / "train-searched.py")
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_script(*args):
    return train_searched().main([str(arg) for arg in args])


def test_retrains_a_genotype_and_an_nb201_artifact_on_digits(tmp_path):
    assert run_script("--arch", "DARTS_V2", "--C", 2, "--N", 1, "--dataset", "digits", "--epochs", 1, "--warmup", 0,
                      "--batch-size", 256, "--seed", 1, "--quiet", "--device", "cpu", "--save-dir", tmp_path / "nasnet") == 0
    config = json.loads((tmp_path / "nasnet" / "config.json").read_text())
    assert config["cutout"] == 16 and config["optim"]["auxiliary"] == 0.4 and config["model"]["drop_path_prob"] == 0.2
    assert config["model"]["genotype"] == get_genotype("DARTS_V2").to_dict()

    artifact = tmp_path / "nb201.json"
    save_artifact(artifact, Arch.from_str(RESNET_CELL), algorithm="test", dataset="digits16", seed=1)
    assert run_script("--arch", artifact, "--C", 4, "--N", 1, "--dataset", "digits16", "--hp", "12", "--epochs", 1,
                      "--batch-size", 256, "--seed", 1, "--quiet", "--device", "cpu", "--save-dir", tmp_path / "nb201") == 0
    config = json.loads((tmp_path / "nb201" / "config.json").read_text())
    assert config["cutout"] == 0 and config["model"]["arch_str"] == RESNET_CELL
    assert config["optim"]["nesterov"] is True and config["optim"]["batch_size"] == 256
    assert len((tmp_path / "nb201" / "metrics.jsonl").read_text().splitlines()) == 1


def test_bad_arch_is_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run_main(train_searched().main, ["--arch", "NOPE", "--dataset", "digits", "--save-dir", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.count("\n") == 1 and "is not a published genotype" in err
