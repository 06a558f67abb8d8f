import json
from pathlib import Path

import pytest

from autodl.config import (OptimConfig, SearchConfig, config_to_dict, load_any_config, load_config,
                           read_legacy_config)
from autodl.errors import ConfigError

from warm_python import run_script

ROOT = Path(__file__).resolve().parents[1]
RECIPE = {"epochs": 300, "warmup": 5, "LR": 0.1, "scheduler": "cos", "optim": "SGD", "decay": 5e-4,
          "momentum": 0.9, "nesterov": True, "criterion": "Softmax", "auxiliary": -1}


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


def test_loads_typed_values_and_defaults(tmp_path):
    config = load_config(OptimConfig, write(tmp_path, "opt.json", RECIPE))
    assert config.epochs == 300 and config.LR == 0.1 and config.nesterov is True
    assert config.milestones == [] and config.T_max is None and config.total_epochs == 305


def test_int_accepted_for_float_and_overrides(tmp_path):
    config = load_config(OptimConfig, dict(RECIPE, LR=1), epochs=10, warmup=None)
    assert isinstance(config.LR, float) and config.LR == 1.0
    assert config.epochs == 10 and config.warmup == 5


def test_unknown_key_names_file_and_key(tmp_path):
    path = write(tmp_path, "opt.json", dict(RECIPE, lr_max=1.0))
    with pytest.raises(ConfigError) as info:
        load_config(OptimConfig, path)
    message = str(info.value)
    assert str(path) in message and "'lr_max'" in message and "expected keys" in message
    assert "\n" not in message


def test_wrong_type_names_key_and_expected_type(tmp_path):
    path = write(tmp_path, "opt.json", dict(RECIPE, epochs="300"))
    with pytest.raises(ConfigError, match=r"opt\.json: key 'epochs' expected int, got '300'"):
        load_config(OptimConfig, path)
    with pytest.raises(ConfigError, match="key 'nesterov' expected bool, got 1"):
        load_config(OptimConfig, dict(RECIPE, nesterov=1))
    with pytest.raises(ConfigError, match="key 'milestones' expected list of int"):
        load_config(OptimConfig, dict(RECIPE, milestones=[1.5]))


def test_missing_required_value(tmp_path):
    data = dict(RECIPE)
    del data["LR"]
    with pytest.raises(ConfigError, match=r"missing required key 'LR' \(float\)"):
        load_config(OptimConfig, write(tmp_path, "opt.json", data))


def test_bad_values_and_bad_files(tmp_path):
    with pytest.raises(ConfigError, match="unknown scheduler 'cosine'; expected one of 'cos'"):
        load_config(OptimConfig, dict(RECIPE, scheduler="cosine"))
    with pytest.raises(ConfigError, match="same length"):
        load_config(OptimConfig, dict(RECIPE, milestones=[30, 60], gammas=[0.1]))
    with pytest.raises(ConfigError, match="invalid JSON at line 1"):
        load_config(OptimConfig, write(tmp_path, "bad.json", "{epochs: 3}"))
    with pytest.raises(ConfigError, match="cannot read config file .*missing.json"):
        load_config(OptimConfig, tmp_path / "missing.json")
    with pytest.raises(ConfigError, match="expected a JSON object"):
        load_config(OptimConfig, write(tmp_path, "list.json", [1, 2]))


def test_search_config_defaults_and_round_trip():
    config = load_config(SearchConfig, {"channel": 8})
    assert config.channel == 8 and config.arch_betas == [0.5, 0.999] and config.arch_LR == 3e-4
    assert load_config(SearchConfig, config_to_dict(config)) == config


LEGACY = """{
  "scheduler": ["str",   "multistep"],
  "epochs"   : ["int",   "120"],
  "warmup"   : ["int",   5],
  "optim"    : ["str",   "SGD"],
  "LR"       : ["float", "0.1"],
  "milestones":["int",   [30, 60, 90]],
  "gammas"   : ["float", ["0.1", 0.1, 0.1]],
  "decay"    : ["float", "0.0001"],
  "momentum" : ["float", "0.9"],
  "nesterov" : ["bool",  "1"],
  "criterion": ["str",   "Softmax"],
  "T_max"    : ["none",  "None"],
  "auxiliary": ["float", "-1"]
}"""


def test_legacy_reader_converts_every_type(tmp_path):
    path = write(tmp_path, "step.config", LEGACY)
    data = read_legacy_config(path, extra={"batch_size": 64})
    assert data["epochs"] == 120 and data["warmup"] == 5 and data["milestones"] == [30, 60, 90]
    assert data["gammas"] == [0.1, 0.1, 0.1] and data["nesterov"] is True and data["T_max"] is None
    assert data["batch_size"] == 64
    config = load_any_config(OptimConfig, path)
    assert config.scheduler == "multistep" and config.total_epochs == 125


@pytest.mark.parametrize("entry, message", [
    ('{"a": ["int", "x"]}', "value 'x' cannot be read as int"),
    ('{"a": ["double", "1"]}', "expected a \\[type, value\\] pair"),
    ('{"a": ["none", "null"]}', "cannot be read as none"),
    ('{"a": "1"}', "expected a \\[type, value\\] pair"),
])
def test_legacy_reader_errors(tmp_path, entry, message):
    with pytest.raises(ConfigError, match=message):
        read_legacy_config(write(tmp_path, "x.config", entry))


def test_converter_command(tmp_path):
    source = write(tmp_path, "step.config", LEGACY)
    target = tmp_path / "out" / "step.json"
    assert run_script(ROOT / "exps" / "convert-config.py", source, target).returncode == 0
    converted = json.loads(target.read_text())
    assert converted["milestones"] == [30, 60, 90] and converted["nesterov"] is True
    assert load_config(OptimConfig, target).scheduler == "multistep"
    bad = run_script(ROOT / "exps" / "convert-config.py", tmp_path / "nope.config", target)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "cannot read config file" in bad.stderr
