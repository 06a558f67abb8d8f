"""exps/search-multitrial.py and the launchers scripts-search/algos/{R-EA,REINFORCE,Random,BOHB,LS,BANANAS}.sh: one run's
artifact and its replay, the multi-run summary and anytime curve, the training and proxy evaluators end to
end, bad input, and a search killed by SIGKILL that resumes from trials.jsonl without re-running a trial."""
import csv
import dataclasses
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from importlib.util import module_from_spec, spec_from_file_location
from pathlib import Path

import pytest

from autodl.algorithms.multitrial import OPTIMIZERS
from autodl.algorithms.multitrial.base import make_options, options_by_algorithm
from autodl.algorithms.multitrial import run as run_module
from autodl.algorithms.multitrial.ranks import kendall, spearman
from autodl.algorithms.multitrial.settings import PROXY_NAMES
from autodl.benchmarks.nb201 import NB201Benchmark
from autodl.benchmarks.nb201.synthetic import write_synthetic_store
from autodl.cli import run_main
from autodl.cli.settings import flag_name, settings_overrides
from autodl.errors import ConfigError
from autodl.spaces.artifact import load_artifact
from autodl.spaces.nb201 import Arch

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "exps" / "search-multitrial.py"
HPO_SCRIPT = ROOT / "exps" / "hpo.py"
OPTION_FIELDS = [(algo, field) for algo in OPTIMIZERS.names() for field in dataclasses.fields(OPTIMIZERS.get(algo).Options)]


def known_accuracy(arch_str):
    ops = Arch.from_str(arch_str).op_indices
    return 40.0 + 8.0 * ops.count(3) + 4.0 * ops.count(2) - 6.0 * ops.count(0)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return write_synthetic_store(tmp_path_factory.mktemp("known") / "store", epochs=(12, 20), accuracy=known_accuracy)


def load_cli(path=SCRIPT):
    spec = spec_from_file_location(path.stem.replace("-", "_"), path)
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cli(*argv):
    with pytest.raises(SystemExit) as done:
        run_main(load_cli().main, [str(a) for a in argv])
    return done.value.code


def test_one_run_writes_the_artifact_and_a_rerun_replays_it(store, tmp_path, capsys):
    assert cli("--algo", "rea", "--benchmark", store, "--dataset", "cifar10", "--seed", 3, "--save-dir", tmp_path) == 0
    artifact = load_artifact(tmp_path / "result.json")
    bench = NB201Benchmark.open(store)
    assert artifact.algorithm == "rea" and artifact.seed == 3 and artifact.search_cost_s <= 12000
    assert artifact.benchmark["test_accuracy"] == bench.final_accuracy(artifact.arch, "cifar10")
    assert artifact.benchmark["index"] == bench.index(artifact.arch) and artifact.benchmark["hp"] == "200"
    log = (tmp_path / "trials.jsonl").read_text()
    assert cli("--algo", "rea", "--benchmark", store, "--dataset", "cifar10", "--seed", 3, "--save-dir", tmp_path) == 0
    assert (tmp_path / "trials.jsonl").read_text() == log  # replayed, nothing evaluated again
    assert load_artifact(tmp_path / "result.json") == artifact
    assert f"-> {tmp_path}/result.json" in capsys.readouterr().out


def test_runs_write_the_summary_the_table_and_the_anytime_curve(store, tmp_path, capsys):
    common = ["--algo", "bohb", "--benchmark", store, "--dataset", "cifar100", "--time-budget", 4000]
    assert cli(*common, "--runs", 4, "--workers", 2, "--save-dir", tmp_path / "many") == 0
    summary = json.loads((tmp_path / "many" / "summary.json").read_text())
    assert [row["seed"] for row in summary["runs"]] == [0, 1, 2, 3]
    for row in summary["runs"]:
        assert {"seed", "arch", "index", "test_accuracy", "cost_s"} <= set(row) and row["cost_s"] <= 4000
        assert row["test_accuracy"] == NB201Benchmark.open(store).final_accuracy(row["arch"], "cifar100")
    assert cli(*common, "--seed", 2, "--save-dir", tmp_path / "one") == 0  # the same search as run 2, alone
    single = load_artifact(tmp_path / "one" / "result.json")
    assert (single.arch, single.search_cost_s) == (summary["runs"][2]["arch"], summary["runs"][2]["cost_s"])
    mean = sum(row["test_accuracy"] for row in summary["runs"]) / 4
    assert summary["table"]["test_accuracy"]["mean"] == pytest.approx(mean)
    with open(tmp_path / "many" / "curves.csv") as handle:
        curve = list(csv.DictReader(handle))
    assert float(curve[0]["time_s"]) == 0 and float(curve[-1]["time_s"]) == 4000 and curve[-1]["runs"] == "4"
    assert float(curve[-1]["mean_test_accuracy"]) == pytest.approx(mean)  # the incumbent at the end is the answer
    out = capsys.readouterr().out
    assert f"| bohb | cifar100 | " in out and "| 4 | ->" in out
    try:
        import matplotlib  # noqa: F401
        plotted = True
    except ImportError:
        plotted = False
    assert (tmp_path / "many" / "curves.png").is_file() == plotted  # the PNG comes with the plot extra
    # a restart finds every run done and rewrites the same summary
    assert cli(*common, "--runs", 4, "--save-dir", tmp_path / "many") == 0
    assert json.loads((tmp_path / "many" / "summary.json").read_text()) == summary


def test_the_training_evaluator_trains_cells_through_the_engine(tmp_path):
    argv = ["--algo", "random", "--dataset", "digits16", "--max-trials", 2, "--epochs", 1, "--channel", 4,
            "--num-cells", 1, "--save-dir", tmp_path]
    assert cli(*argv) == 0
    trials = [json.loads(line) for line in (tmp_path / "trials.jsonl").read_text().splitlines()]
    assert [trial["trial"] for trial in trials] == [0, 1] and all(0 <= trial["score"] <= 100 for trial in trials)
    for number in (0, 1):
        settings = json.loads((tmp_path / "trials" / f"trial-{number}" / "config.json").read_text())
        assert settings["model"]["arch_str"] == trials[number]["candidate"] and settings["optim"]["epochs"] == 1
    assert load_artifact(tmp_path / "result.json").benchmark is None


def test_the_proxy_evaluator_reports_correlations_with_a_benchmark(store, tmp_path):
    assert cli("--algo", "random", "--evaluator", "proxy", "--benchmark", store, "--dataset", "cifar10",
               "--max-trials", 8, "--proxy-batch", 8, "--channel", 4, "--num-cells", 1, "--save-dir", tmp_path) == 0
    table = load_artifact(tmp_path / "result.json").extra["proxy_correlations"]
    assert table["cells"] == 8 and set(table) == {"cells", *PROXY_NAMES}
    # the search scored its cells by naswot: the table's naswot row correlates those scores with the store's accuracies
    trials = [json.loads(line) for line in (tmp_path / "trials.jsonl").read_text().splitlines()]
    scores = {trial["candidate"]: trial["score"] for trial in trials}
    bench = NB201Benchmark.open(store)
    accuracies = [bench.final_accuracy(cell, "cifar10") for cell in scores]
    assert table["naswot"] == pytest.approx({"spearman": spearman(list(scores.values()), accuracies),
                                             "kendall": kendall(list(scores.values()), accuracies)}, abs=1e-12)


def test_runs_resume_from_the_runs_log_and_from_an_older_directorys_per_seed_files(store, tmp_path, monkeypatch):
    """runs.jsonl: a line cut by a kill is dropped and that seed runs again; a directory of the per-seed files of
    older versions (runs/seed-<s>.json) resumes from them; both give the summary of an uninterrupted search."""
    common = ["--algo", "rea", "--benchmark", store, "--dataset", "cifar10", "--time-budget", 3000, "--runs", 4]
    assert cli(*common, "--save-dir", tmp_path / "full") == 0
    summary = json.loads((tmp_path / "full" / "summary.json").read_text())
    lines = (tmp_path / "full" / "runs.jsonl").read_text().splitlines()
    assert [json.loads(line)["seed"] for line in lines] == [0, 1, 2, 3]
    cut, legacy = tmp_path / "cut", tmp_path / "legacy"
    for folder in (cut, legacy):
        folder.mkdir()
        (folder / "settings.json").write_text((tmp_path / "full" / "settings.json").read_text())
    (cut / "runs.jsonl").write_text("\n".join(lines[:2]) + "\n" + lines[2][:40])  # killed while writing seed 2
    (legacy / "runs").mkdir()
    for line in lines[:3]:
        (legacy / "runs" / f"seed-{json.loads(line)['seed']}.json").write_text(line + "\n")
    ran = []
    real = run_module._one_of_many
    monkeypatch.setattr(run_module, "_one_of_many", lambda settings, seed: ran.append(seed) or real(settings, seed))
    for folder, again in ((cut, [2, 3]), (legacy, [3])):
        ran.clear()
        assert cli(*common, "--save-dir", folder) == 0
        assert ran == again
        assert json.loads((folder / "summary.json").read_text()) == summary
        assert (folder / "runs.jsonl").read_text().splitlines() == (lines if folder == cut else lines[3:])


@pytest.mark.parametrize("algo,field", OPTION_FIELDS, ids=[f"{a}-{f.name}" for a, f in OPTION_FIELDS])
def test_every_option_of_every_algorithm_is_a_flag_of_both_entry_points(algo, field, tmp_path):
    """The flag's help names the algorithms that take it (and the default in search-multitrial.py); its value
    reaches the algorithm's options, and only that algorithm's."""
    value = 1 if field.default is None else field.default
    text = str(int(value)) if isinstance(value, bool) else str(value)
    required = {SCRIPT: ["--save-dir", str(tmp_path)],
                HPO_SCRIPT: ["--space", "configs/hpo/recipe.json", "--dataset", "digits16", "--model",
                             "configs/archs/CIFAR-SmallCNN.json", "--optim", "configs/opts/digits-E10-W1-COS.json",
                             "--save-dir", str(tmp_path)]}
    for path, rest in required.items():
        parser = load_cli(path).build_parser()
        (action,) = [a for a in parser._actions if flag_name(field.name) in a.option_strings]
        takers = action.help.rsplit("[", 1)[1].rstrip("]").split(", ") if action.help.endswith("]") else OPTIMIZERS.names()
        assert algo in takers, action.help
        if path == SCRIPT and field.default is not None:
            assert f"(default: " in action.help
        args = parser.parse_args(["--algo", algo, flag_name(field.name), text, *rest])
        options = settings_overrides(args, algo, options_by_algorithm())
        assert options == {field.name: value}
        assert getattr(make_options(OPTIMIZERS.get(algo), options), field.name) == value
        others = [name for name in OPTIMIZERS.names() if name not in takers]
        if others:
            with pytest.raises(ConfigError, match=f"{flag_name(field.name)} is a setting of"):
                settings_overrides(parser.parse_args(["--algo", others[0], flag_name(field.name), text, *rest]),
                                   others[0], options_by_algorithm())


COUNTS = [(algo, field.name) for algo, field in OPTION_FIELDS if field.metadata.get("count")]


@pytest.mark.parametrize("algo,name", COUNTS)
def test_a_count_option_below_1_is_one_line_and_exit_2(store, algo, name, tmp_path, capsys):
    assert cli("--algo", algo, "--benchmark", store, "--dataset", "cifar10", flag_name(name), 0,
               "--save-dir", tmp_path / "run") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{name}=0" in err and algo in err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("argv,message", [
    (["--algo", "bohb", "--population", 5], "--population is a setting of rea, not of 'bohb'"),
    (["--algo", "rea", "--evaluator", "benchmark"], "the benchmark evaluator needs --benchmark"),
    (["--algo", "rea", "--benchmark", "STORE", "--dataset", "mnist"], "unknown benchmark dataset 'mnist'"),
    (["--algo", "rea", "--benchmark", "/nonexistent.pth"], "does not exist"),
    (["--algo", "rea", "--benchmark", "STORE", "--dataset", None], "the benchmark evaluator needs --dataset"),
    (["--algo", "rea", "--evaluator", "proxy", "--dataset", "cifar11"], "unknown dataset 'cifar11'"),
    (["--algo", "rea", "--evaluator", "proxy", "--benchmark", "STORE", "--dataset", "digits16"],
     "unknown benchmark dataset 'digits16'"),
    (["--algo", "rea", "--evaluator", "proxy", "--proxy-data", "cifar11"], "unknown proxy data 'cifar11'"),
    (["--algo", "random", "--evaluator", "training", "--dataset", "cifar11"], "unknown dataset 'cifar11'"),
])
def test_bad_input_is_one_line_and_exit_2(store, argv, message, tmp_path, capsys):
    argv = [str(store) if a == "STORE" else a for a in argv]
    if "--dataset" not in argv:
        argv += ["--dataset", "cifar10"]
    elif argv[argv.index("--dataset") + 1] is None:
        argv = argv[:-2]
    assert cli(*argv, "--save-dir", tmp_path / "run") == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "run" / "trials.jsonl").exists()


def test_a_search_killed_by_sigkill_resumes_without_re_running_a_trial(tmp_path):
    argv = ["--algo", "rea", "--population", 5, "--evaluator", "proxy", "--dataset", "digits16", "--proxy-batch", 8,
            "--channel", 4, "--num-cells", 1, "--max-trials", 60, "--seed", 1]
    assert cli(*argv, "--save-dir", tmp_path / "full") == 0
    command = [sys.executable, str(SCRIPT), *map(str, argv), "--save-dir", str(tmp_path / "killed")]
    log = tmp_path / "killed" / "trials.jsonl"
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not (log.is_file() and log.read_text().count("\n") >= 12):
        assert process.poll() is None, process.stderr.read().decode()[-2000:]
        assert time.monotonic() < deadline
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    killed_at = log.read_text().count("\n")
    assert killed_at < 60, "the search finished before the kill; the test needs a slower evaluator"
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    trials = [json.loads(line) for line in log.read_text().splitlines()]
    assert [trial["trial"] for trial in trials] == list(range(60))  # no trial ran twice
    reference = [json.loads(line) for line in (tmp_path / "full" / "trials.jsonl").read_text().splitlines()]
    assert [(t["candidate"], t["score"]) for t in trials] == [(t["candidate"], t["score"]) for t in reference]
    assert load_artifact(tmp_path / "killed" / "result.json").arch == load_artifact(tmp_path / "full" / "result.json").arch


# ------------------------------------------------------------------------------------------ launchers
LAUNCHERS = {"R-EA": (["cifar10", "3"], "rea", ["--population", "10", "--sample-size", "3"]),
             "REINFORCE": (["cifar100", "0.5"], "reinforce", ["--learning-rate", "0.5", "--ema-momentum", "0.9"]),
             "Random": (["ImageNet16-120"], "random", []),
             "BOHB": (["cifar10"], "bohb", ["--n-iters", "50", "--num-samples", "4", "--random-fraction", "0",
                                            "--bandwidth-factor", "3", "--min-bandwidth", "0.3"]),
             "LS": (["cifar100"], "local_search", ["--start-cells", "1"]),
             "BANANAS": (["cifar10"], "bananas", ["--num-init", "10", "--per-round", "10", "--num-candidates", "100",
                                                  "--ensemble", "5"])}


def launch(name, args, tmp_path, **env):
    environment = {k: v for k, v in os.environ.items() if k not in ("BENCHMARK", "WORKERS", "DRY_RUN")}
    environment.update(OUTPUT_DIR=str(tmp_path / "out"), TORCH_HOME=str(tmp_path / "torch"), **env)
    return subprocess.run(["bash", str(ROOT / "scripts-search" / "algos" / f"{name}.sh"), *args], cwd=tmp_path,
                          env=environment, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("name", list(LAUNCHERS))
def test_launchers_build_the_original_commands(name, tmp_path):
    args, algo, flags = LAUNCHERS[name]
    one = shlex.split(launch(name, [*args, "7"], tmp_path, DRY_RUN="1").stdout)
    many = shlex.split(launch(name, [*args, "-1"], tmp_path, DRY_RUN="1", WORKERS="3").stdout)
    assert one[one.index("--algo") + 1] == algo and one[one.index("--time-budget") + 1] == "12000"
    assert one[one.index("--seed") + 1] == "7" and "--runs" not in one
    assert one[one.index("--save-dir") + 1] == f"{tmp_path}/out/search-cell-nas-bench-201/{name}-{args[0]}/seed-7"
    assert many[many.index("--runs") + 1] == "500" and many[many.index("--workers") + 1] == "3"
    assert one[one.index("--benchmark") + 1] == f"{tmp_path}/torch/NAS-Bench-201-v1_1-096897.pth"
    text = " ".join(one)
    assert " ".join(flags) in text
    short = launch(name, args[:-1], tmp_path)
    assert short.returncode == 2 and short.stderr.startswith("usage:")


@pytest.mark.slow
def test_a_launcher_runs_a_search_on_a_given_benchmark_and_fails_fast_without_one(store, tmp_path):
    done = launch("R-EA", ["cifar10", "3", "5", "--time-budget", "3000"], tmp_path, BENCHMARK=str(store))
    assert done.returncode == 0, done.stderr
    artifact = load_artifact(tmp_path / "out" / "search-cell-nas-bench-201" / "R-EA-cifar10" / "seed-5" / "result.json")
    assert artifact.algorithm == "rea" and artifact.search_cost_s <= 3000
    missing = launch("Random", ["cifar10", "1"], tmp_path)
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1 and "no NAS-Bench-201 benchmark" in missing.stderr
    assert not list((tmp_path / "out").rglob("Random-*"))  # refused before anything is written


@pytest.mark.slow
def test_bohb_trains_a_bracket_in_two_worker_processes(tmp_path):
    argv = ["--algo", "bohb", "--dataset", "digits16", "--min-budget", 1, "--max-budget", 3, "--max-trials", 4,
            "--channel", 4, "--num-cells", 1, "--workers", 2]
    assert cli(*argv, "--save-dir", tmp_path / "two") == 0
    assert cli(*argv[:-2], "--save-dir", tmp_path / "one") == 0
    runs = [[json.loads(line) for line in (tmp_path / name / "trials.jsonl").read_text().splitlines()] for name in ("two", "one")]
    assert [t["budget"] for t in sorted(runs[0], key=lambda t: t["trial"])] == [1.0, 1.0, 1.0, 3.0]
    # the same trials and scores with one or two workers: results are told in the order asked
    assert sorted((t["trial"], t["candidate"], t["score"]) for t in runs[0]) == \
        sorted((t["trial"], t["candidate"], t["score"]) for t in runs[1])
