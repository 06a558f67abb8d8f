"""A new search is one file: tests/throwaway_algorithms.py (a new relaxation and a new mixed op with extra
architecture tensors, and a new multi-trial optimiser), loaded as a plugin through ``$AUTODL_PLUGINS``, gets the
command line, its flags and every registry-parametrised test of the searches, and passes them."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from autodl.algorithms import ALGORITHMS
from autodl.benchmarks.nb201.synthetic import write_synthetic_store

ROOT = Path(__file__).resolve().parents[1]
NEW = {"soft-gumbel-test": ("nas-bench-201", "darts"), "partial-channel-test": ("nas-bench-201", "darts")}
SELECT = " or ".join(NEW)
NEW_OPTIMIZER = "restart-walk-test"


def plugin_env() -> dict:
    path = os.pathsep.join(filter(None, [str(ROOT / "tests"), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "AUTODL_PLUGINS": "throwaway_algorithms", "PYTHONPATH": path}


def run(*args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=plugin_env(), capture_output=True, text=True,
                          timeout=timeout)


def pytest_run(*args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    return run("-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_search.py",
               "tests/test_search_distributed.py", "-k", SELECT, *args, timeout=timeout)


def test_a_plugin_algorithm_gets_the_command_line_and_its_own_flags():
    done = run("exps/search-cell.py", "--help")
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())
    assert all(name in text for name in NEW)
    owners = sorted([name for name in ALGORITHMS.names() if "tau_min" in ALGORITHMS.get(name).settings.__dataclass_fields__]
                    + ["soft-gumbel-test"])
    assert "--tau-min" in text and f"[{', '.join(owners)}]" in text  # one flag, shared by all that take it


def test_the_registrys_search_tests_collect_every_case_of_a_plugin_algorithm():
    done = pytest_run("--collect-only", "-m", "slow or not slow", "-n", "0")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    ids = {line.strip() for line in done.stdout.splitlines() if "::" in line}
    per_space = ["test_two_search_steps_train_the_supernet_and_derive_an_architecture",
                 "test_a_fixed_seed_repeats_the_steps_exactly",
                 "test_a_search_killed_by_sigkill_resumes_to_the_same_trajectory_and_artifact",
                 "test_every_registered_algorithm_has_a_shipped_recipe_on_each_space"]
    for name, spaces in NEW.items():
        for space in spaces:
            for test in per_space:
                assert f"tests/test_search.py::{test}[{name}-{space}]" in ids
            assert (f"tests/test_search_distributed.py::test_two_gloo_processes_search_the_same_architecture_on_"
                    f"different_shards[{name}-{space}]") in ids
    # the fast path holds a SIGKILL resume of each (its cheapest space)
    fast = pytest_run("--collect-only", "-n", "0")
    assert sum("killed_by_sigkill" in line for line in fast.stdout.splitlines()) == len(NEW)


@pytest.mark.slow
def test_a_plugin_algorithm_passes_the_registrys_tests():
    """The fast cases (steps, determinism, SIGKILL resume, recipes) and a 2-rank DDP run of the mixed-op
    variant, whose extra architecture tensors must stay identical on both ranks (about 3 minutes)."""
    collected = pytest_run("--collect-only", "-n", "0").stdout
    cases = sum(line.startswith("tests/") for line in collected.splitlines())
    assert cases >= 2 * len(NEW)  # steps on NB201, determinism, SIGKILL resume, recipes: several per plugin
    done = pytest_run("-n", "0", timeout=900)
    assert done.returncode == 0, done.stdout[-3000:]
    assert re.search(rf"^{cases} passed", done.stdout, re.M), done.stdout[-3000:]  # every fast case of the plugins ran
    ddp = run("-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0", "-m", "slow",
              "tests/test_search_distributed.py::test_two_gloo_processes_search_the_same_architecture_on_different_"
              "shards[partial-channel-test-nas-bench-201]", timeout=600)
    assert ddp.returncode == 0 and re.search(r"^1 passed", ddp.stdout, re.M), ddp.stdout[-3000:]


def test_a_plugin_optimiser_gets_its_flags_and_searches_a_benchmark(tmp_path):
    store = write_synthetic_store(tmp_path / "store", epochs=(12, 20))
    done = run("exps/search-multitrial.py", "--algo", NEW_OPTIMIZER, "--patience", "3", "--accept-ties", "0",
               "--benchmark", str(store), "--dataset", "cifar10", "--max-trials", "30", "--save-dir", str(tmp_path / "one"))
    assert done.returncode == 0 and f"{NEW_OPTIMIZER}: |" in done.stdout, done.stderr
    result = json.loads((tmp_path / "one" / "result.json").read_text())
    assert result["algorithm"] == NEW_OPTIMIZER and result["trials"] == 30
    assert result["config"]["settings"]["options"] == {"patience": 3, "accept_ties": False}


@pytest.mark.slow
def test_the_registrys_multitrial_tests_run_and_pass_a_plugin_optimiser(tmp_path):
    """Its options (declaration, flags of both entry points, bad values), the ask/tell contract, budget,
    determinism, state round trip, replay and a hyper-parameter search: 13 cases; its flag in --help; 3 runs of it
    in one call."""
    done = run("exps/search-multitrial.py", "--help")
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())
    assert NEW_OPTIMIZER in text.split("--algo {")[1].split("}")[0].split(",")
    assert re.search(rf"--patience PATIENCE proposals without improvement .*\(default: 8\) \[{NEW_OPTIMIZER}\]", text)
    assert "--accept-ties {0,1}" in text
    store = write_synthetic_store(tmp_path / "store", epochs=(12, 20))
    argv = ["exps/search-multitrial.py", "--algo", NEW_OPTIMIZER, "--benchmark", str(store), "--dataset", "cifar10",
            "--max-trials", "30"]
    done = run(*argv, "--runs", "3", "--save-dir", str(tmp_path / "many"))
    assert done.returncode == 0 and f"| {NEW_OPTIMIZER} | cifar10 |" in done.stdout, done.stderr
    done = run("-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0", "tests/test_multitrial.py",
               "tests/test_multitrial_cli.py", "-k", NEW_OPTIMIZER, timeout=300)
    assert done.returncode == 0 and re.search(r"^13 passed", done.stdout, re.M), done.stdout[-3000:]
