"""The zero-cost proxy study (exps/proxy-study.py): end to end on a digits benchmark built by the builder, its
scores against independent computations, its correlations against a hand computation on the written scores,
resume after SIGKILL of a real process, and its one-line errors."""
from __future__ import annotations

import csv
import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from test_multitrial_proxies import by_hand_kendall, by_hand_spearman
from warm_python import run_script

from autodl.algorithms.multitrial.proxies import PROXIES, fixed_batch
from autodl.algorithms.multitrial.proxy_study import (BASELINES, MEASURES, StudySettings, run_study, sample_cells,
                                                      score_cell)
from autodl.benchmarks.nb201 import NB201Benchmark
from autodl.benchmarks.nb201.synthetic import write_synthetic_store
from autodl.errors import AutoDLError
from autodl.models import create_model

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "exps" / "proxy-study.py"
SMALL = ("--channel", "2", "--num-cells", "1", "--proxy-batch", "8")


@pytest.fixture(scope="module")
def digits_store(tmp_path_factory):
    """Five cells trained for one epoch on 16x16 digits (C=2, N=1, hp 200, one seed), merged into a store."""
    from autodl.benchmarks.nb201.builder import BuildConfig, Runtime, build
    from autodl.benchmarks.nb201.merge import build_store

    folder = tmp_path_factory.mktemp("proxy-study-digits")
    config = BuildConfig(settings=("digits",), recipes_dir=ROOT / "configs" / "nas-benchmark", hp="200", seeds=(777,),
                         channel=2, num_cells=1, epochs=1, batch_size=128, test_batch_size=256, digits_size=16)
    build(list(range(5)), config, Runtime(workers=0, verbose=False, progress=False), folder / "results")
    return build_store([folder / "results"], folder / "store")


def settings_of(store, **overrides) -> StudySettings:
    values = dict(benchmark=str(store), dataset="digits", cells=4, seed=1, channel=2, num_cells=1, proxy_batch=8)
    return StudySettings(**{**values, **overrides})


def read_scores(folder: Path) -> list[dict[str, str]]:
    with open(folder / "scores.csv") as handle:
        return list(csv.DictReader(handle))


def test_a_study_on_the_digits_benchmark_reports_every_proxy_and_both_baselines(digits_store, tmp_path):
    result = run_study(settings_of(digits_store), tmp_path / "study")
    assert list(result.correlations) == list(MEASURES) == [*PROXIES, "params", "flops"]
    table = (tmp_path / "study" / "correlations.md").read_text().splitlines()
    assert table[0] == "| measure | Spearman rho | Kendall tau-b |" and [line.split(" | ")[0] for line in table[2:]] == \
        [f"| {name}" for name in MEASURES]
    plots = sorted(f"scatter-{m}.png" for m in MEASURES) if importlib.util.find_spec("matplotlib") else []
    assert sorted(p.name for p in (tmp_path / "study").glob("scatter-*.png")) == plots  # the README's test extra has none
    # the sample: 4 distinct evaluated cells drawn by the seed, with the paper's accuracy (hp 200, seed mean, test)
    bench = NB201Benchmark.open(digits_store)
    assert len(set(result.indexes)) == 4 and set(result.indexes) <= set(range(5))
    np.testing.assert_array_equal(result.accuracies, [bench.final_accuracy(i, "digits") for i in result.indexes])
    assert sample_cells(bench, settings_of(digits_store, seed=2))[0] != result.indexes
    # the correlations equal a hand computation on the written scores
    rows = read_scores(tmp_path / "study")
    accuracies = [float(row["accuracy"]) for row in rows]
    for name in MEASURES:
        scores = [float(row[name]) for row in rows]
        assert result.correlations[name]["spearman"] == pytest.approx(by_hand_spearman(scores, accuracies), abs=1e-12)
        assert result.correlations[name]["kendall"] == pytest.approx(by_hand_kendall(scores, accuracies), abs=1e-12)
        assert f"| {name} | {result.correlations[name]['spearman']:.3f} | {result.correlations[name]['kendall']:.3f} |" \
            in table
    summary = json.loads((tmp_path / "study" / "result.json").read_text())
    assert summary["cells"] == 4 and set(summary["seconds_per_cell"]) == set(MEASURES)


def test_each_score_equals_an_independent_computation(digits_store):
    settings = settings_of(digits_store)
    bench = NB201Benchmark.open(digits_store)
    arch = bench.arch_str(3)
    scores, _ = score_cell(settings, arch)
    inputs, targets = fixed_batch("digits16", 8)
    for name in PROXIES:  # the network built here from the seed of the study seed and the cell, on the same batch
        torch.manual_seed(zlib.crc32(f"1:{arch}".encode()))
        model = create_model({"name": "infer.tiny", "C": 2, "N": 1, "num_classes": 10, "arch_str": arch}).train()
        assert scores[name] == PROXIES[name](model, inputs, targets), name
    assert scores["params"] == sum(p.numel() for p in model.parameters())
    # the builder trained this very network (C=2, N=1, 16x16 digits) and recorded its params and FLOPs in millions
    cost = bench.cost(3, "digits")
    assert scores["params"] / 1e6 == pytest.approx(cost["params"], abs=1e-12)
    assert scores["flops"] / 1e6 == pytest.approx(cost["flops"], abs=1e-12)
    assert set(scores) == set(PROXIES) | set(BASELINES)


def test_the_command_line_prints_the_table_and_a_rerun_scores_nothing(digits_store, tmp_path):
    args = ("--benchmark", digits_store, "--dataset", "digits", "--cells", "3", "--save-dir", tmp_path / "cli", *SMALL,
            "--proxies", "synflow", "params")
    first = run_script(SCRIPT, *args, cwd=ROOT)
    assert first.returncode == 0, first.stderr
    table = first.stdout.split("\n3 cells")[0].splitlines()[-4:]
    assert table[0] == "| measure | Spearman rho | Kendall tau-b |" and [row.split(" | ")[0] for row in table[2:]] == \
        ["| synflow", "| params"] and "3 cells (3 scored now), digits test accuracy (hp 200)" in first.stdout
    again = run_script(SCRIPT, *args, cwd=ROOT)
    assert again.returncode == 0 and "3 cells (0 scored now)" in again.stdout
    assert again.stdout.split("\n3 cells")[0].splitlines()[-4:] == table


@pytest.mark.parametrize("change, message", [
    ({"measures": ("naswot", "zen")}, "unknown proxy 'zen'; expected one of naswot, synflow, snip, grad_norm, "
                                      "jacob_cov, params, flops$"),
    ({"cells": 6}, r"--cells 6 is more than the 5 cells of .* with a 200-epoch digits test accuracy; use --cells 5 "
                   "or fewer$"),
    ({"benchmark": "/nonexistent/digits.store"}, "benchmark file /nonexistent/digits.store does not exist"),
    ({"dataset": "cifar10"}, "unknown dataset 'cifar10'; expected one of 'digits'"),
])
def test_bad_input_is_one_clear_error(digits_store, tmp_path, change, message):
    with pytest.raises(AutoDLError, match=message):
        run_study(settings_of(digits_store, **change), tmp_path / "bad")
    assert not (tmp_path / "bad" / "scores.jsonl").exists()


def test_other_settings_in_a_study_directory_are_refused(digits_store, tmp_path):
    run_study(settings_of(digits_store, cells=3, measures=("params",)), tmp_path / "study")
    with pytest.raises(AutoDLError, match=r"holds a study with other settings \(differs in: cells\); rerun with the "
                                          "same settings to resume it or pass a new --save-dir$"):
        run_study(settings_of(digits_store, cells=4, measures=("params",)), tmp_path / "study")


def test_the_command_lines_errors_are_one_line(digits_store, tmp_path):
    (tmp_path / "file").write_text("")
    for args, start in [(("--save-dir", tmp_path / "file" / "out"), "error: argument --save-dir: cannot create "),
                        (("--save-dir", tmp_path / "ok", "--proxies", "zen"), "error: unknown proxy 'zen'"),
                        (("--save-dir", tmp_path / "ok"), "error: --cells 1000 is more than the 5 cells")]:
        done = run_script(SCRIPT, "--benchmark", digits_store, "--dataset", "digits", *args, cwd=ROOT)
        assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert re.match(r"([\w.-]+: )?" + re.escape(start), done.stderr), done.stderr


def test_a_log_line_cut_by_a_kill_is_scored_again(digits_store, tmp_path):
    settings = settings_of(digits_store, measures=("params", "flops"))
    whole = run_study(settings, tmp_path / "whole")
    log = tmp_path / "cut" / "scores.jsonl"
    run_study(settings, tmp_path / "cut")
    lines = log.read_text().splitlines(keepends=True)
    log.write_text(lines[0] + lines[1][: len(lines[1]) // 2])  # killed while writing the second cell's line
    resumed = run_study(settings, tmp_path / "cut")
    assert resumed.scored_now == 3 and resumed.correlations == whole.correlations
    assert (tmp_path / "cut" / "scores.csv").read_text() == (tmp_path / "whole" / "scores.csv").read_text()
    assert len(log.read_text().splitlines()) == 4


def test_without_matplotlib_the_tables_are_written_and_no_plot(digits_store, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib raises ImportError
    result = run_study(settings_of(digits_store, cells=3, measures=("params",)), tmp_path / "study")
    assert result.plotted is False and not list((tmp_path / "study").glob("*.png"))
    assert (tmp_path / "study" / "correlations.md").is_file() and (tmp_path / "study" / "scores.csv").is_file()


@pytest.mark.slow
def test_a_study_killed_mid_way_resumes_to_the_uninterrupted_table(tmp_path):
    store = write_synthetic_store(tmp_path / "synthetic.store", num_archs=40, epochs=(12, 4))
    args = [str(SCRIPT), "--benchmark", str(store), "--dataset", "cifar10", "--cells", "16", "--proxy-data", "digits16",
            *SMALL]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    whole = subprocess.run([sys.executable, *args, "--save-dir", str(tmp_path / "whole"), "--quiet"], env=env,
                           capture_output=True, text=True, timeout=300)
    assert whole.returncode == 0, whole.stderr
    killed = tmp_path / "killed"
    parallel = [*args, "--workers", "2"]  # 2 worker processes score the same numbers as this process
    process = subprocess.Popen([sys.executable, *parallel, "--save-dir", str(killed), "--quiet"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log, deadline = killed / "scores.jsonl", time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        if log.is_file() and log.read_text().count("\n") >= 3:
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.005)
    assert process.wait(60) == -signal.SIGKILL, "the study ended before it was killed"
    scored = log.read_text().count("\n")
    assert 3 <= scored < 16 and not (killed / "correlations.md").exists()
    resumed = subprocess.run([sys.executable, *parallel, "--save-dir", str(killed)], env=env, capture_output=True,
                             text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"16 cells ({16 - scored} scored now)" in resumed.stdout
    assert (killed / "correlations.md").read_text() == (tmp_path / "whole" / "correlations.md").read_text()
    assert (killed / "scores.csv").read_text() == (tmp_path / "whole" / "scores.csv").read_text()
    assert sorted(json.loads(line)["index"] for line in log.read_text().splitlines()) == \
        sorted(int(row["index"]) for row in read_scores(tmp_path / "whole"))  # every cell scored once
