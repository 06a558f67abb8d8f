import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from warm_python import run_script

ROOT = Path(__file__).resolve().parents[1]
MAIN = ROOT / "exps" / "basic-main.py"
MODEL = ROOT / "configs" / "archs" / "CIFAR-SmallCNN.json"
OPTIM = ROOT / "configs" / "opts" / "digits-E10-W1-COS.json"


def call(script, *args):
    return run_script(script, *args)


def test_help_documents_every_flag():
    from importlib.util import module_from_spec, spec_from_file_location

    spec = spec_from_file_location("basic_main", MAIN)
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    flags = {opt for action in module.build_parser()._actions for opt in action.option_strings}
    done = call(MAIN, "--help")
    assert done.returncode == 0
    assert "(default: None)" not in done.stdout and "(default: True)" not in done.stdout  # e.g. --no-amp
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


def test_a_failed_command_never_blocks_the_corrected_one(tmp_path):
    bad, good = tmp_path / "bad.json", tmp_path / "good.json"
    bad.write_text(json.dumps({"name": "no-such-net", "channels": 4}))
    good.write_text(json.dumps({"name": "small-cnn", "channels": 4}))
    run = tmp_path / "run"

    def train(model):
        return call(MAIN, "--dataset", "digits16", "--model", model, "--optim", OPTIM, "--epochs", 1, "--warmup", 0,
                    "--quiet", "--device", "cpu", "--seed", 1, "--save-dir", run)

    failed = train(bad)
    assert failed.returncode == 2 and failed.stderr.count("\n") == 1, failed.stderr
    assert failed.stderr.startswith("error: unknown model 'no-such-net'")
    assert not run.exists()  # bad input is reported before the run directory is written

    # a directory left by an attempt that failed before its first checkpoint (a crash, an older version)
    (run / "checkpoint").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"model": {"name": "no-such-net"}, "seed": 1}))
    (run / "log.txt").write_text("[2024-01-01 00:00:00] the earlier attempt\n")
    done = train(good)
    assert done.returncode == 0, done.stderr
    assert json.loads((run / "config.json").read_text())["model"]["name"] == "small-cnn"
    assert (run / "checkpoint" / "last.pth").is_file() and len((run / "metrics.jsonl").read_text().splitlines()) == 1
    log = (run / "log.txt").read_text().splitlines()
    assert log[0].endswith("the earlier attempt")
    assert "replaced a config that differs in: " in log[1] and "no checkpoint/last.pth" in log[1]

    # with a checkpoint, a different config is still refused
    good.write_text(json.dumps({"name": "small-cnn", "channels": 2}))
    refused = train(good)
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1
    assert "holds a run with a different config (differs in: model.channels)" in refused.stderr
    assert json.loads((run / "config.json").read_text())["model"]["channels"] == 4


def test_a_directory_passed_as_a_file_is_called_a_directory(tmp_path):
    done = call(MAIN, "--dataset", "digits", "--model", MODEL.parent, "--optim", OPTIM, "--save-dir", tmp_path / "run")
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert f"argument --model: '{MODEL.parent}' is a directory; pass a file in it" in done.stderr
    assert "does not exist" not in done.stderr and not (tmp_path / "run").exists()


def test_evaluating_on_a_dataset_with_other_classes_is_one_line(tmp_path):
    from autodl.data.fakes import write_fake_cifar100

    run = tmp_path / "run"
    trained = call(MAIN, "--dataset", "digits16", "--model", MODEL, "--optim", OPTIM, "--epochs", 1, "--warmup", 0,
                   "--quiet", "--device", "cpu", "--seed", 1, "--save-dir", run)
    assert trained.returncode == 0, trained.stderr
    write_fake_cifar100(tmp_path / "data", n_train=10, n_test=100)
    done = call(ROOT / "exps" / "basic-eval.py", "--checkpoint", run / "checkpoint" / "last.pth", "--dataset", "cifar100",
                "--data-path", tmp_path / "data", "--device", "cpu")
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "has 10 classes but cifar100 has 100; evaluate it on a dataset with 10 classes (it was trained on digits16)" \
        in done.stderr


def test_search_summary_refuses_a_retraining_directory_that_holds_no_run(tmp_path):
    search = tmp_path / "search"
    search.mkdir()
    (search / "metrics.jsonl").write_text("")
    for retrain, message in ((tmp_path / "missing", "does not exist"), (tmp_path, "holds no metrics.jsonl")):
        done = call(ROOT / "exps" / "search-summary.py", search, "--retrain", retrain)
        assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
        assert "argument --retrain: " in done.stderr and message in done.stderr


def test_base_train_refuses_a_learning_rate_it_cannot_read(tmp_path):
    env = dict(os.environ, OUTPUT_DIR=str(tmp_path / "out"))
    done = subprocess.run(["bash", ROOT / "scripts" / "base-train.sh", "digits", "SmallCNN", "E1", "Lx", "64", "1"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 2 and done.stderr == ("error: LR 'Lx' is neither L<tenths> (L1 = 0.1, L4 = 0.4) nor a "
                                                    "number; pass e.g. L1 or 0.1\n")
    assert not (tmp_path / "out").exists()
