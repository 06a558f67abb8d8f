"""What a multi-trial search shows: a line per trial of a training search off a terminal and a result line with
the score (also with --quiet); anytime curves of every run, of the proxy score where there is no benchmark
accuracy (never NaN), drawn when matplotlib is there and said once when it is not; one plot comparing several
searches (exps/compare-curves.py)."""
import csv
import importlib.util
import json
import os
import re
import sys

import numpy as np
import pytest

from autodl.algorithms.multitrial.curves import CURVES_PNG, PLOT_HINT
from autodl.plotting import Plotter, plot_curves
from autodl.benchmarks.nb201 import NB201Benchmark
from autodl.benchmarks.nb201.synthetic import write_synthetic_store
from autodl.cli import run_main
from autodl.spaces.artifact import load_artifact
from test_multitrial_cli import ROOT, SCRIPT, load_cli
from warm_python import run_script

COMPARE = ROOT / "exps" / "compare-curves.py"
TRAINING = ["--algo", "random", "--dataset", "digits16", "--max-trials", 2, "--epochs", 1, "--channel", 4,
            "--num-cells", 1]
PROXY = ["--algo", "rea", "--evaluator", "proxy", "--max-trials", 6, "--population", 3, "--proxy-batch", 8,
         "--channel", 4, "--num-cells", 1]
TRIAL_LINE = re.compile(r"^trial (\d+)/2 \|\S+\| score (\S+) \(best (\S+)\) elapsed \d+:\d\d ETA \d+:\d\d$")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return write_synthetic_store(tmp_path_factory.mktemp("store") / "store", epochs=(12, 20),
                                 accuracy=lambda cell: 40.0 + 8.0 * cell.count("nor_conv_3x3") - 6.0 * cell.count("none"))


def cli(*argv):
    with pytest.raises(SystemExit) as done:
        run_main(load_cli().main, [str(a) for a in argv])
    return done.value.code


def read_curve(path):
    with open(path) as handle:
        return list(csv.DictReader(handle))


def test_a_training_search_off_a_terminal_prints_a_line_per_trial_and_the_best_score(tmp_path):
    done = run_script(SCRIPT, *TRAINING, "--save-dir", tmp_path / "run")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    trials = [json.loads(line) for line in (tmp_path / "run" / "trials.jsonl").read_text().splitlines()]
    matches = [TRIAL_LINE.match(line) for line in lines[:2]]
    assert all(matches), lines
    assert [int(m.group(1)) for m in matches] == [1, 2]
    assert [float(m.group(2)) for m in matches] == pytest.approx([t["score"] for t in trials], abs=5e-3)
    best = max(t["score"] for t in trials)
    assert float(matches[1].group(3)) == pytest.approx(best, abs=5e-3)
    assert len(lines) == 3 and f"score={best:.4g}" in lines[2] and lines[2].endswith(f"{tmp_path}/run/result.json")
    quiet = run_script(SCRIPT, *TRAINING, "--quiet", "--save-dir", tmp_path / "quiet")
    assert quiet.returncode == 0 and len(quiet.stdout.splitlines()) == 1  # fewer lines, still the result
    assert f"score={best:.4g}" in quiet.stdout  # the same seed trains the same trials


def test_a_single_run_has_its_anytime_curve(store, tmp_path):
    assert cli("--algo", "rea", "--benchmark", store, "--dataset", "cifar10", "--time-budget", 4000,
               "--save-dir", tmp_path) == 0
    artifact = load_artifact(tmp_path / "result.json")
    curve = read_curve(tmp_path / "curves.csv")
    assert float(curve[-1]["time_s"]) == 4000 and curve[-1]["runs"] == "1"
    assert float(curve[-1]["mean_score"]) == artifact.extra["search_score"]
    assert float(curve[-1]["mean_test_accuracy"]) == artifact.benchmark["test_accuracy"]
    points = artifact.extra["incumbents"]
    bench = NB201Benchmark.open(store)
    assert [p["cost"] for p in points] == sorted(p["cost"] for p in points) and len(points) > 1
    assert points[-1]["test_accuracy"] == bench.final_accuracy(artifact.arch, "cifar10")
    for row in curve:  # each time's value is the latest incumbent's
        known = [p for p in points if p["cost"] <= float(row["time_s"])]
        assert row["mean_score"] == (str(known[-1]["score"]) if known else "")


def test_proxy_runs_write_curves_of_the_proxy_score_never_nan(tmp_path, capsys):
    assert cli(*PROXY, "--runs", 3, "--save-dir", tmp_path) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    curve = read_curve(tmp_path / "curves.csv")
    assert list(curve[0]) == ["time_s", "runs", "mean_score", "std_score"]  # no benchmark accuracy: no such column
    assert "nan" not in (tmp_path / "curves.csv").read_text().lower()
    assert all((row["mean_score"] == "") == (row["runs"] == "0") for row in curve)
    scores = [row["score"] for row in summary["runs"]]
    assert float(curve[-1]["time_s"]) == max(row["cost_s"] for row in summary["runs"]) and curve[-1]["runs"] == "3"
    assert float(curve[-1]["mean_score"]) == pytest.approx(np.mean(scores))
    assert float(curve[-1]["std_score"]) == pytest.approx(np.std(scores))
    out = capsys.readouterr().out
    assert f"search score {np.mean(scores):.2f}±{np.std(scores):.2f} (naswot proxy)" in out


def test_without_matplotlib_the_png_is_skipped_and_said_once(store, tmp_path, monkeypatch, capsys):
    """Neither this process nor the child that draws the PNG of --runs can import matplotlib."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    (tmp_path / "blocker").mkdir()
    (tmp_path / "blocker" / "sitecustomize.py").write_text("import sys\nsys.modules['matplotlib'] = None\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(tmp_path / "blocker"), os.environ.get("PYTHONPATH")])))
    assert cli("--algo", "rea", "--benchmark", store, "--dataset", "cifar10", "--runs", 2, "--save-dir", tmp_path) == 0
    err = capsys.readouterr().err
    assert err.count(PLOT_HINT) == 1 and "curves.png not written" in err
    assert json.loads((tmp_path / "summary.json").read_text())["plot"] is None and not (tmp_path / CURVES_PNG).exists()


def test_a_plotter_draws_in_its_child_and_says_when_matplotlib_is_missing(tmp_path, monkeypatch):
    curve = [{"time_s": float(t), "runs": 2, "mean_score": 50.0 + t, "std_score": 1.0} for t in range(11)]
    job = ({"rea": curve}, "search time (s)", "score", "score")
    with Plotter() as plotter:
        drawn = plotter.plot(tmp_path / "drawn.png", *job)
    assert drawn == (importlib.util.find_spec("matplotlib") is not None) == (tmp_path / "drawn.png").is_file()
    if drawn:  # the child's warm-up drawing leaves nothing behind: its PNG is this process's, byte for byte
        assert plot_curves(tmp_path / "here.png", *job)
        assert (tmp_path / "drawn.png").read_bytes() == (tmp_path / "here.png").read_bytes()
        with Plotter() as plotter, pytest.raises(RuntimeError, match=r"^the process drawing .*here.png.x.png failed: "
                                                                     r"autodl.errors.OutputPathError: .* is a file, not a directory"):
            plotter.plot(tmp_path / "here.png" / "x.png", *job)  # a file as its folder: the child's error, one line
    (tmp_path / "blocker").mkdir()
    (tmp_path / "blocker" / "sitecustomize.py").write_text("import sys\nsys.modules['matplotlib'] = None\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(tmp_path / "blocker"), os.environ.get("PYTHONPATH")])))
    with Plotter() as plotter:
        assert plotter.plot(tmp_path / "missing.png", *job) is False
    assert not (tmp_path / "missing.png").exists()
    with Plotter():  # given nothing to draw: ended on leaving
        pass


def line_pixels(png, colour):
    """Pixels of the PNG within a small distance of ``colour`` (matplotlib's default line colours)."""
    image = pytest.importorskip("matplotlib.image").imread(png)[..., :3]
    return int((np.abs(image - np.array(colour)).max(axis=-1) < 0.08).sum())


BLUE, ORANGE = (0x1F / 255, 0x77 / 255, 0xB4 / 255), (0xFF / 255, 0x7F / 255, 0x0E / 255)


def test_the_proxy_curve_png_draws_the_score(tmp_path):
    pytest.importorskip("matplotlib")
    assert cli(*PROXY, "--runs", 3, "--save-dir", tmp_path) == 0
    assert json.loads((tmp_path / "summary.json").read_text())["plot"] == CURVES_PNG
    assert line_pixels(tmp_path / CURVES_PNG, BLUE) > 300  # a drawn line, not an empty frame


def test_one_plot_compares_the_curves_of_several_searches(store, tmp_path):
    pytest.importorskip("matplotlib")
    common = ["--benchmark", store, "--dataset", "cifar10", "--time-budget", 4000]
    assert cli("--algo", "rea", *common, "--runs", 3, "--save-dir", tmp_path / "rea") == 0
    assert cli("--algo", "random", *common, "--save-dir", tmp_path / "random") == 0
    done = run_script(COMPARE, tmp_path / "rea", tmp_path / "random", "--output", tmp_path / "both.png")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"test accuracy of 2 searches -> {tmp_path / 'both.png'}\n"
    assert line_pixels(tmp_path / "both.png", BLUE) > 300 and line_pixels(tmp_path / "both.png", ORANGE) > 300
    proxy = tmp_path / "proxy"
    assert cli(*PROXY, "--save-dir", proxy) == 0
    mixed = run_script(COMPARE, tmp_path / "rea", proxy, "--output", tmp_path / "mixed.png")
    assert mixed.returncode == 2 and "do not share one evaluator and dataset" in mixed.stderr
    assert len(mixed.stderr.strip().splitlines()) == 1 and not (tmp_path / "mixed.png").exists()
    missing = run_script(COMPARE, tmp_path / "nothing", "--output", tmp_path / "none.png")
    assert missing.returncode == 2 and "holds no summary.json or result.json" in missing.stderr
