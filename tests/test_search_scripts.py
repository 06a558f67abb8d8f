"""The search launchers (scripts-search/algos/*.sh, scripts-search/*-search-NASNet-space.sh): argument
checks, the command each one builds (printed with DRY_RUN=1), and one real run on the built-in digits16."""
import importlib.util
import os
import shlex
import subprocess
from pathlib import Path

import pytest

from autodl.spaces.artifact import load_artifact
from autodl.spaces.nb201 import Arch

ROOT = Path(__file__).resolve().parents[1]
NB201 = {"DARTS-V1": "darts-v1", "DARTS-V2": "darts-v2", "GDAS": "gdas", "SETN": "setn", "ENAS": "enas",
         "RANDOM-NAS": "rsps", "PC-DARTS": "pc-darts", "DrNAS": "drnas", "SNAS": "snas", "DARTS-MINUS": "darts-minus",
         "BETA-DARTS": "beta-darts"}
NASNET = {"DARTS1V": ("darts-v1", "DARTS-V1"), "DARTS2V": ("darts-v2", "DARTS-V2"), "GDAS": ("gdas", "GDAS"),
          "SETN": ("setn", "SETN"), "DARTS+": ("darts+", "DARTS+"), "DARTS+V1": ("darts+-v1", "DARTS+V1"),
          "NASP": ("nasp", "NASP"), "NASP-12ops": ("nasp-12ops", "NASP-12ops")}
SCRIPTS = ([(f"scripts-search/algos/{name}.sh", 3) for name in NB201]
           + [(f"scripts-search/{name}-search-NASNet-space.sh", 2) for name in NASNET])


def load_search_cell():
    spec = importlib.util.spec_from_file_location("search_cell", ROOT / "exps" / "search-cell.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def launch(script, args, tmp_path, timeout=20, **env):
    inherited = ("BENCHMARK", "WORKERS", "DEVICE", "DRY_RUN")
    environment = {key: value for key, value in os.environ.items() if key not in inherited}
    environment.update(OUTPUT_DIR=str(tmp_path / "out"), TORCH_HOME=str(tmp_path / "torch"), **env)
    return subprocess.run(["bash", str(ROOT / script), *args], cwd=tmp_path, env=environment, capture_output=True,
                          text=True, timeout=timeout)


def dry_run(script, args, tmp_path, **env):
    done = launch(script, args, tmp_path, DRY_RUN="1", **env)
    assert done.returncode == 0, done.stderr
    command = shlex.split(done.stdout)
    assert command[:2] == ["python", str(ROOT / "exps" / "search-cell.py")]
    return command[2:]


def flag(argv, name):
    """The last value of ``name`` (argparse keeps the last)."""
    values = [argv[i + 1] for i, arg in enumerate(argv) if arg == name]
    return values[-1] if values else None


@pytest.mark.parametrize("script,required", SCRIPTS)
def test_a_wrong_argument_count_prints_the_usage_and_fails(script, required, tmp_path):
    for count in (0, required - 1):
        done = launch(script, ["cifar10", "0", "1"][:count], tmp_path)
        assert done.returncode != 0
        assert done.stderr.startswith("usage: bash ") and f"(got {count} arguments)" in done.stderr
        assert done.stdout == ""
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", NB201)
def test_nb201_launchers_build_the_original_command_with_a_seed_folder(name, tmp_path):
    parser = load_search_cell().build_parser()
    argv = dry_run(f"scripts-search/algos/{name}.sh", ["cifar100", "1", "7", "--epochs", "2"], tmp_path)
    args = parser.parse_args(argv)
    assert (args.algo, args.space, args.dataset, args.seed) == (NB201[name], "nas-bench-201", "cifar100", 7)
    assert (args.channel, args.num_cells, args.track_running_stats, args.epochs) == (16, 5, 1, 2)
    assert args.save_dir == str(tmp_path / "out" / "search-cell-nas-bench-201" / f"{name}-cifar100-BN1" / "seed-7")
    assert args.data_path == str(tmp_path / "torch" / "cifar.python")
    assert args.benchmark is None and args.workers == min(4, len(os.sched_getaffinity(0)))  # 4, at most one per core
    assert argv[-2:] == ["--epochs", "2"]  # extra flags come last, so they override the launcher's


@pytest.mark.parametrize("name", NASNET)
def test_nasnet_launchers_search_the_darts_space(name, tmp_path):
    parser = load_search_cell().build_parser()
    (tmp_path / "torch" / "NAS-Bench-201-v1_1-096897.store").mkdir(parents=True)
    args = parser.parse_args(dry_run(f"scripts-search/{name}-search-NASNet-space.sh", ["cifar10", "3"], tmp_path))
    algo, label = NASNET[name]
    assert (args.algo, args.space, args.dataset, args.seed) == (algo, "darts", "cifar10", 3)
    assert args.channel is None and args.num_cells is None  # the recipe's C16 N2
    assert args.save_dir == str(tmp_path / "out" / "search-cell-darts" / f"{label}-cifar10" / "seed-3")
    assert args.benchmark is None  # NAS-Bench-201 holds no NASNet cells


def test_data_paths_workers_and_the_benchmark_follow_the_environment(tmp_path):
    script = "scripts-search/algos/GDAS.sh"
    argv = dry_run(script, ["digits16", "0", "1"], tmp_path)
    assert flag(argv, "--data-path") is None and flag(argv, "--workers") == "0"  # built in: no TORCH_HOME needed
    argv = dry_run(script, ["ImageNet16-120", "0", "1"], tmp_path, WORKERS="2", DEVICE="cpu")
    assert flag(argv, "--data-path") == str(tmp_path / "torch" / "cifar.python" / "ImageNet16")
    assert (flag(argv, "--workers"), flag(argv, "--device")) == ("2", "cpu")

    official = tmp_path / "torch" / "NAS-Bench-201-v1_1-096897.pth"
    official.parent.mkdir()
    official.write_bytes(b"")
    assert flag(dry_run(script, ["cifar10", "0", "1"], tmp_path), "--benchmark") == str(official)
    store = official.with_suffix(".store")
    store.mkdir()
    assert flag(dry_run(script, ["cifar10", "0", "1"], tmp_path), "--benchmark") == str(store)  # the store first
    assert flag(dry_run(script, ["cifar10", "0", "1"], tmp_path, BENCHMARK="none"), "--benchmark") is None
    assert flag(dry_run(script, ["cifar10", "0", "1"], tmp_path, BENCHMARK="/b.store"), "--benchmark") == "/b.store"


def test_a_launcher_runs_a_search_end_to_end_on_digits16(tmp_path):
    done = launch("scripts-search/algos/GDAS.sh",
                  ["digits16", "0", "1", "--epochs", "1", "--channel", "2", "--num-cells", "1", "--batch-size", "512",
                   "--device", "cpu", "--quiet"], tmp_path, timeout=180, OMP_NUM_THREADS="1")
    assert done.returncode == 0, done.stderr
    run = tmp_path / "out" / "search-cell-nas-bench-201" / "GDAS-digits16-BN0" / "seed-1"
    artifact = load_artifact(run / "result.json")
    assert (artifact.space, artifact.algorithm, artifact.dataset) == ("nas-bench-201", "gdas", "digits16")
    assert artifact.seed == 1
    assert f"gdas: {Arch.from_str(artifact.arch)} -> " in done.stdout
    assert (run / "cell.png").is_file() and (run / "metrics.jsonl").read_text().count("\n") == 1
    assert artifact.extra["config"]["supernet"] == {"name": "search.nb201", "C": 2, "N": 1, "num_classes": 10,
                                          "track_running_stats": False}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # nothing written next to it
