import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAIN = ROOT / "exps" / "basic-main.py"
MODEL = ROOT / "configs" / "archs" / "CIFAR-SmallCNN.json"
OPTIM = ROOT / "configs" / "opts" / "digits-E10-W1-COS.json"


def call(script, *args):
    return subprocess.run([sys.executable, str(script), *map(str, args)], capture_output=True, text=True, timeout=300)


def test_help_documents_every_flag():
    from importlib.util import module_from_spec, spec_from_file_location

    spec = spec_from_file_location("basic_main", MAIN)
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    flags = {opt for action in module.build_parser()._actions for opt in action.option_strings}
    done = call(MAIN, "--help")
    assert done.returncode == 0
    for flag in flags:
        assert flag in done.stdout
    for action in module.build_parser()._actions:
        assert action.help, action.option_strings


@pytest.mark.parametrize("args, pattern", [
    (["--batch-size", "zero"], r"argument --batch-size: expected an integer, got 'zero'"),
    (["--batch-size", "-3"], r"expected a positive integer, got '-3'"),
    (["--dataset", "mnist"], r"argument --dataset: invalid choice: 'mnist'"),
    (["--lr", "fast"], r"argument --lr: expected a number"),
])
def test_wrong_flag_value_is_one_line_exit_2(tmp_path, args, pattern):
    base = {"--dataset": "digits", "--model": MODEL, "--optim": OPTIM, "--save-dir": tmp_path / "run"}
    for flag, value in zip(args[::2], args[1::2]):
        base[flag] = value
    done = call(MAIN, *[x for pair in base.items() for x in pair])
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and re.search(pattern, done.stderr), done.stderr
    assert not (tmp_path / "run").exists()


def test_library_error_is_one_line_exit_2(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"epochs": 3, "LR": 0.1, "warmpu": 1}))
    done = call(MAIN, "--dataset", "digits", "--model", MODEL, "--optim", bad, "--save-dir", tmp_path / "run")
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert done.stderr.startswith("error: ") and "unknown key 'warmpu'" in done.stderr and "Traceback" not in done.stderr
    missing = call(ROOT / "exps" / "basic-eval.py", "--checkpoint", tmp_path / "nope.pth")
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1 and "does not exist" in missing.stderr
