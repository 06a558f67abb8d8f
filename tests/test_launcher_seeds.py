"""The launchers' seed -1 (the original's "random seed") draws a new seed and names the run directory after
it, so every -1 run is a new run and the announced seed resumes it; their default worker counts are capped
at the machine's cores."""
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACT = ROOT / "configs" / "archs" / "CIFAR-SmallCNN.json"  # any existing file: the launcher only checks that
# launcher -> arguments before SEED, arguments after it
LAUNCHERS = {
    "scripts/base-train.sh": (["cifar10", "ResNet20", "E300", "L1", "256"], []),
    "scripts/nas-infer-train.sh": (["cifar10", "DARTS_V2", "96"], []),
    "scripts/retrain-searched-net.sh": (["cifar10", "mine", ARTIFACT, "96"], []),
    "scripts/tas-infer-train.sh": (["cifar10", "C010-ResNet20"], []),
    "scripts-search/algos/DARTS-V1.sh": (["cifar10", "0"], []),
    "scripts-search/GDAS-search-NASNet-space.sh": (["cifar10"], []),
    "scripts-search/search-shape-cifar.sh": (["cifar10", "ResNet56", "CIFARX", "0.47"], []),
}


def fake_python(tmp_path):
    """A ``python`` first on PATH that prints the command line of a script (and runs ``python -c`` for real)."""
    folder = tmp_path / "bin"
    folder.mkdir(exist_ok=True)
    shim = folder / "python"
    shim.write_text(f'#!/usr/bin/env bash\nif [ "$1" = -c ]; then exec {shlex.quote(sys.executable)} "$@"; fi\n'
                    'printf "%q " python "$@"; echo\n')
    shim.chmod(0o755)
    return f"{folder}{os.pathsep}{os.environ['PATH']}"


def launch(tmp_path, script, seed, **env):
    before, after = LAUNCHERS[script]
    variables = dict(os.environ, PATH=fake_python(tmp_path), OUTPUT_DIR=str(tmp_path / "out"), DRY_RUN="1", **env)
    variables.pop("WORKERS", None)
    variables.update(env)
    done = subprocess.run(["bash", ROOT / script, *map(str, before), str(seed), *after], capture_output=True,
                          text=True, env=variables, timeout=60)
    assert done.returncode == 0, done.stderr
    return done


def runs(stdout):
    """(--seed, --save-dir) of every python command printed."""
    found = []
    for line in stdout.splitlines():
        argv = shlex.split(line)
        if "--save-dir" in argv:
            found.append((int(argv[argv.index("--seed") + 1]), argv[argv.index("--save-dir") + 1]))
    return found


@pytest.mark.parametrize("script", LAUNCHERS)
def test_seed_minus_one_is_a_new_run_that_its_announced_seed_resumes(script, tmp_path):
    first, second = launch(tmp_path, script, -1), launch(tmp_path, script, -1)
    seeds = []
    for done in (first, second):
        announced = re.fullmatch(r"seed -1: drew seed (\d+); rerun with seed \1 to resume this run\n", done.stderr)
        assert announced, done.stderr
        seed = int(announced.group(1))
        commands = runs(done.stdout)
        assert commands and all(s == seed and "seed--1" not in d and f"seed-{seed}" in d for s, d in commands), commands
        seeds.append(seed)
        # the explicit seed names the same run directories: a rerun with it resumes the -1 run
        assert runs(launch(tmp_path, script, seed).stdout) == commands
    assert seeds[0] != seeds[1] and all(1 <= seed <= 100000 for seed in seeds)


def test_default_workers_are_capped_at_the_cores_and_workers_overrides(tmp_path):
    script = "scripts-search/algos/DARTS-V1.sh"

    def workers(*prefix, **env):
        done = subprocess.run([*prefix, "bash", ROOT / script, "cifar10", "0", "1"], capture_output=True, text=True,
                              env={**{k: v for k, v in os.environ.items() if k != "WORKERS"}, "DRY_RUN": "1",
                                   "OUTPUT_DIR": str(tmp_path), **env}, timeout=60)
        argv = shlex.split(done.stdout)
        return int(argv[argv.index("--workers") + 1])

    assert workers() == min(4, len(os.sched_getaffinity(0)))
    assert workers("taskset", "-c", "0") == 1  # one core: one worker, not the original's 4
    assert workers("taskset", "-c", "0", WORKERS="3") == 3
