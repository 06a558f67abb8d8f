"""A benchmark-only multi-trial search imports no torch: exps/search-multitrial.py runs end to end (one run, and
--runs in worker processes) in an interpreter where importing torch fails, for every registered optimiser; the
weight-sharing algorithms' registry imports its torch modules only when it is first read."""
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autodl.algorithms.multitrial import OPTIMIZERS
from autodl.benchmarks.nb201.synthetic import write_synthetic_store
from autodl.spaces.artifact import load_artifact

ROOT = Path(__file__).resolve().parents[1]
MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
SCRIPT = ROOT / "exps" / "search-multitrial.py"
BLOCKER = '''import os, sys


class NoTorch:
    """Refuses torch (and records that something asked for it)."""

    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            with open(os.environ["TORCH_ASKED"], "a") as handle:
                handle.write(name + "\\n")
            raise ImportError(f"torch is blocked in this test ({name})")
        return None


sys.meta_path.insert(0, NoTorch())
'''


@pytest.fixture(scope="module")
def no_torch(tmp_path_factory):
    """An environment whose interpreters (and their spawned workers) cannot import torch."""
    folder = tmp_path_factory.mktemp("no-torch")
    (folder / "sitecustomize.py").write_text(BLOCKER)
    return dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH")])),
                TORCH_ASKED=str(folder / "asked.txt")), folder / "asked.txt"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return write_synthetic_store(tmp_path_factory.mktemp("store") / "store", epochs=(12, 20),
                                 accuracy=lambda cell: 40.0 + 8.0 * cell.count("nor_conv_3x3") - 6.0 * cell.count("none"))


def run(env, *args, **kwargs):
    return subprocess.run([sys.executable, *map(str, args)], env=env, capture_output=True, text=True, timeout=300,
                          **kwargs)


def test_the_blocker_refuses_torch(no_torch):
    env, asked = no_torch
    done = run(env, "-c", "import torch")
    assert done.returncode == 1 and "torch is blocked in this test" in done.stderr
    assert asked.read_text() == "torch\n"
    asked.unlink()


@pytest.mark.parametrize("algo", OPTIMIZERS.names())
def test_a_benchmark_search_runs_end_to_end_without_torch(no_torch, store, algo, tmp_path):
    env, asked = no_torch
    one = run(env, SCRIPT, "--algo", algo, "--benchmark", store, "--dataset", "cifar10", "--time-budget", 4000,
              "--save-dir", tmp_path / "one")
    assert one.returncode == 0, one.stderr
    assert load_artifact(tmp_path / "one" / "result.json").benchmark["test_accuracy"] > 0
    many = run(env, SCRIPT, "--algo", algo, "--benchmark", store, "--dataset", "cifar100", "--time-budget", 4000,
               "--runs", 3, "--workers", 2, "--save-dir", tmp_path / "many")
    assert many.returncode == 0, many.stderr
    assert [row["seed"] for row in json.loads((tmp_path / "many" / "summary.json").read_text())["runs"]] == [0, 1, 2]
    assert (tmp_path / "many" / "curves.csv").is_file()
    for folder in ("one", "many"):  # drawn by the script's plotting child (without torch too)
        assert (tmp_path / folder / "curves.png").is_file() == MATPLOTLIB
    assert not asked.exists(), f"something asked for torch: {asked.read_text()}"


def test_the_algorithm_registry_imports_the_weight_sharing_searches_on_first_use():
    code = ("import sys; from autodl.algorithms import ALGORITHMS; before = 'torch' in sys.modules; "
            "names = ALGORITHMS.names(); print(before, 'torch' in sys.modules, 'darts-v1' in names)")
    assert run(dict(os.environ), "-c", code).stdout.split() == ["False", "True", "True"]
