"""Benchmark: 500 multi-trial searches on a full-size NAS-Bench-201 store, and the zero-cost proxy evaluator.

Prints one JSON object per measurement:
{"bench": "multitrial", "case": ..., "value": <seconds>, "unit": "s", ...context}.
The store is synthetic (15,625 architectures, the v1_1 shape with 200-epoch curves) with accuracies and
times that follow a known function of the cell (12-epoch training of 48-192 s, like the real file), so each
search at the 12,000 s simulated budget evaluates about as many cells as on the real benchmark.
``rea_500_runs`` times 500 REA runs (seeds 0..499) in this process; ``random``/``reinforce``/``bohb``/
``local_search``/``bananas`` likewise with ``--algos``.  ``proxy_<name>_all_cells`` scores ``--proxy-cells`` cells of the space with each proxy on
one batch of 64 digits images (32 x 32, C=16, N=5 by default) and extrapolates to all 15,625 (``estimated``: true).

``end_to_end/ours_rea_500_runs`` times ``exps/search-multitrial.py --runs 500`` (REA, the original's settings)
from process start to its exit (summary printed, curves drawn), in a subprocess: the median of ``--repeats`` runs.
Both sides run from bytecode (their ``lib`` and ``exps`` byte-compiled first, as installed packages are).
With ``--original DIR`` (a checkout of the original
D-X-Y/AutoDL-Projects at the era's b464d9d, which has ``exps/algos/R_EA.py`` and its bundled ``lib/nas_201_api``)
both sides run on the same full-size official-layout file: a v1_1 ``.pth`` of all 15,625 cells (every dataset
and seed count of v1_1; the 200-epoch records cut to 12 epochs, so that the original's loader fits in this
machine's memory: ~0.5 GB on disk, ~4 GB loaded) is written once and converted into a store (both untimed);
``end_to_end/original_rea_500_runs`` times the original's ``R_EA.py --rand_seed -1`` (500 searches) with its
launcher's arguments on the ``.pth``, and ``end_to_end/speedup`` is the ratio, measured in the same run.  The
original asserts a GPU that it never uses and logs the cuDNN version, so it runs with
``torch.cuda.is_available`` true and no cuDNN version; nothing else of it is changed.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from autodl.algorithms.multitrial import OPTIMIZERS, BenchmarkEvaluator, create_optimizer, run_trials
from autodl.algorithms.multitrial.proxies import PROXIES, ProxyEvaluator, fixed_batch
from autodl.benchmarks.nb201 import NB201Benchmark
from autodl.benchmarks.nb201.synthetic import write_synthetic_store
from autodl.spaces.nb201 import NUM_ARCHS, benchmark_archs
from autodl.utils import emit_benchmark

ROOT = Path(__file__).resolve().parents[2]
ORIGINAL_RUNNER = """import runpy, sys, torch
torch.cuda.is_available = lambda: True
torch.backends.cudnn.version = lambda: None
sys.argv = ["exps/algos/R_EA.py"] + sys.argv[1:]
runpy.run_path("exps/algos/R_EA.py", run_name="__main__")
"""
"""Runs the original's R_EA.py (in its checkout) with the GPU assertion and the cuDNN version query answered."""
OFFICIAL_FILE_WRITER = """import os, sys, torch
from autodl.benchmarks.nb201 import convert
from autodl.benchmarks.nb201.synthetic import make_benchmark
if os.path.isfile(sys.argv[1]):
    convert(sys.argv[1], sys.argv[2])
else:
    benchmark = make_benchmark(15625, epochs=(12, 12))
    torch.save(benchmark, sys.argv[1])
    convert(benchmark, sys.argv[2])
"""
"""Writes the full-size official-layout .pth unless it exists, and its store (in a subprocess: the ~4 GB of the
loaded file are freed afterwards)."""
def parse_options(items: list[str], algos: list[str]) -> dict[str, dict[str, object]]:
    """``ALGO.NAME=VALUE`` items (VALUE as JSON, else a string) -> the options of each algorithm in ``algos``."""
    options: dict[str, dict[str, object]] = {algo: {} for algo in algos}
    for item in items:
        key, _, text = item.partition("=")
        algo, _, name = key.partition(".")
        if not name or not text:
            raise SystemExit(f"--option {item!r}: expected ALGO.NAME=VALUE, e.g. reinforce.learning_rate=0.5")
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = text
        if algo in options:
            options[algo][name] = value
    return options


def cell_accuracy(arch_str: str) -> float:
    """The store's accuracy of a cell: convolutions help, 'none' edges hurt (40..88 %)."""
    return 40.0 + 8.0 * arch_str.count("nor_conv_3x3") + 4.0 * arch_str.count("nor_conv_1x1") - 6.0 * arch_str.count("none")


def time_searches(bench: NB201Benchmark, algo: str, options: dict[str, object], runs: int, budget: float) -> None:
    evaluator = BenchmarkEvaluator(bench, "cifar10")  # builds the per-table look-up lists once
    trials = 0
    start = time.perf_counter()
    for seed in range(runs):
        evaluator.seed = seed
        result = run_trials(create_optimizer(algo, evaluator.space, seed, **options), evaluator,
                            time_budget=budget)
        trials += len(result.trials)
    seconds = time.perf_counter() - start
    emit_benchmark("multitrial", f"{algo}_{runs}_runs", round(seconds, 4), "s", device="cpu", runs=runs,
                   time_budget_s=budget, trials=trials, us_per_trial=round(1e6 * seconds / trials, 2))


def timed_command(command: list[str], cwd: Path, log: Path, **env: str) -> float:
    """Seconds from the start of ``command`` to its exit (its output goes to ``log``); a failure stops the bench."""
    start = time.perf_counter()
    with open(log, "w") as handle:
        done = subprocess.run(command, cwd=cwd, stdout=handle, stderr=subprocess.STDOUT, env={**os.environ, **env})
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[:3])} ... failed with exit code {done.returncode}; see {log}")
    return seconds


def compile_sources(checkout: Path) -> None:
    """Byte-compile the ``lib`` and ``exps`` sources of ``checkout`` into their ``__pycache__`` folders, as an
    installed package is (and as Python does on a first run, unless PYTHONDONTWRITEBYTECODE is set, as on some
    sandboxes): both sides are timed from bytecode, so neither pays for compiling its sources on every run."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(checkout / "lib"), str(checkout / "exps")],
                   check=True, stdout=subprocess.DEVNULL)


def time_end_to_end(store: Path, scratch: Path, runs: int, budget: float, repeats: int) -> float:
    """Our 500 REA runs as a user runs them: exps/search-multitrial.py from process start to its exit (the
    summary written and printed, curves.png drawn), the median of ``repeats`` runs (each in a new directory)."""
    compile_sources(ROOT)
    times = []
    for _ in range(repeats):
        save_dir = scratch / "ours"
        shutil.rmtree(save_dir, ignore_errors=True)
        times.append(timed_command([sys.executable, str(ROOT / "exps" / "search-multitrial.py"), "--algo", "rea",
                                    "--benchmark", str(store), "--dataset", "cifar10", "--time-budget", str(budget),
                                    "--runs", str(runs), "--population", "10", "--sample-size", "3", "--quiet",
                                    "--save-dir", str(save_dir)], ROOT, scratch / "ours.log"))
    seconds = statistics.median(times)
    table = json.loads((save_dir / "summary.json").read_text())["table"]["test_accuracy"]
    emit_benchmark("multitrial", f"end_to_end/ours_rea_{runs}_runs", round(seconds, 3), "s", device="cpu", runs=runs,
                   time_budget_s=budget, store=store.name, mean_test_accuracy=round(table["mean"], 2),
                   repeats=repeats, runs_s=[round(t, 3) for t in times], bytecode="compiled")
    return seconds


def time_original(original: Path, pth: Path, scratch: Path, budget: float) -> float:
    """The original's R_EA.py with a negative seed (500 searches) and its launcher's arguments, on ``pth``."""
    if not (original / "exps" / "algos" / "R_EA.py").is_file() or not (original / "lib" / "nas_201_api").is_dir():
        raise SystemExit(f"--original {original} is not a checkout of the original at b464d9d (it needs "
                         "exps/algos/R_EA.py and lib/nas_201_api); check out that commit or drop --original")
    save_dir = scratch / "original"
    shutil.rmtree(save_dir, ignore_errors=True)
    compile_sources(original)
    seconds = timed_command([sys.executable, "-c", ORIGINAL_RUNNER, "--save_dir", str(save_dir), "--max_nodes", "4",
                             "--channel", "16", "--num_cells", "5", "--dataset", "cifar10",
                             "--search_space_name", "nas-bench-201", "--arch_nas_dataset", str(pth),
                             "--time_budget", str(int(budget)), "--ea_cycles", "200", "--ea_population", "10",
                             "--ea_sample_size", "3", "--ea_fast_by_api", "1", "--workers", "4", "--print_freq", "200",
                             "--rand_seed", "-1"], original, scratch / "original.log",
                            OMP_NUM_THREADS="4", TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD="1")
    searches = sum(bool(re.search(r" : \d{3}/500$", line)) for line in (scratch / "original.log").read_text().splitlines())
    if searches != 500:
        raise SystemExit(f"the original ran {searches} searches instead of 500; see {scratch / 'original.log'}")
    emit_benchmark("multitrial", "end_to_end/original_rea_500_runs", round(seconds, 3), "s", device="cpu", runs=500,
                   time_budget_s=budget, file=pth.name, file_mb=round(pth.stat().st_size / 2**20, 1), bytecode="compiled")
    return seconds


def time_proxies(cells: int, channel: int, num_cells: int, data: str) -> None:
    inputs, targets = fixed_batch(data, 64)
    archs = benchmark_archs()[:cells]  # benchmark-index order: a random mix of the space
    for proxy in PROXIES:
        evaluator = ProxyEvaluator(proxy, inputs, targets, 10, channel=channel, num_cells=num_cells)
        evaluator.score(archs[0])  # warm-up
        start = time.perf_counter()
        for arch in archs:
            evaluator.score(arch)
        seconds = time.perf_counter() - start
        emit_benchmark("multitrial", f"proxy_{proxy}_all_cells", round(seconds * NUM_ARCHS / len(archs), 1), "s",
                       device="cpu", measured_cells=len(archs), measured_s=round(seconds, 3),
                       estimated=len(archs) < NUM_ARCHS, batch=64, image=inputs.shape[-1], channel=channel,
                       num_cells=num_cells)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=500, help="searches per algorithm")
    parser.add_argument("--time-budget", type=float, default=12000.0, help="simulated seconds per search")
    parser.add_argument("--algos", nargs="+", default=["rea"], choices=OPTIMIZERS.names(), help="algorithms to time")
    parser.add_argument("--option", action="append", default=[], metavar="ALGO.NAME=VALUE",
                        help="an optimiser option (repeatable; default: the optimiser's own), e.g. as the launchers "
                             "set them: reinforce.learning_rate=0.5 bohb.n_iters=50 bohb.num_samples=4 "
                             "bohb.random_fraction=0 bohb.min_bandwidth=0.3")
    parser.add_argument("--repeats", type=int, default=5,
                        help="end-to-end runs of ours (a second each); the median is reported")
    parser.add_argument("--proxy-cells", type=int, default=20, help="cells scored per proxy (0: skip the proxies)")
    parser.add_argument("--channel", type=int, default=16, help="proxy network channels C")
    parser.add_argument("--num-cells", type=int, default=5, help="proxy network cells per stage N")
    parser.add_argument("--proxy-data", default="digits", choices=["digits", "digits16"], help="images of the proxy batch")
    parser.add_argument("--store", default=None, help="reuse this synthetic store folder (written if missing)")
    parser.add_argument("--original", type=Path, default=None,
                        help="checkout of the original AutoDL-Projects at b464d9d: time its R_EA.py beside ours")
    parser.add_argument("--official-file", type=Path, default=None,
                        help="with --original: reuse this full-size .pth and its store <file>.store (written if missing)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    scratch = None if args.store else Path(tempfile.mkdtemp(prefix="multitrial-bench-"))
    path = Path(args.store) if args.store else scratch / "store"
    try:
        if not (path / "index.json").is_file():
            start = time.perf_counter()
            write_synthetic_store(path, NUM_ARCHS, accuracy=cell_accuracy)
            emit_benchmark("multitrial", "write_full_store", round(time.perf_counter() - start, 2), "s", device="cpu",
                           archs=NUM_ARCHS)
        bench = NB201Benchmark.open(path)
        start = time.perf_counter()
        BenchmarkEvaluator(bench, "cifar10")
        emit_benchmark("multitrial", "benchmark_evaluator_setup", round(time.perf_counter() - start, 3), "s", device="cpu")
        options = parse_options(args.option, args.algos)
        for algo in args.algos:
            time_searches(bench, algo, options[algo], args.runs, args.time_budget)
        work = scratch or Path(tempfile.mkdtemp(prefix="multitrial-bench-"))
        if args.original is None:
            time_end_to_end(path, work, args.runs, args.time_budget, args.repeats)
        else:
            pth = args.official_file or work / "NAS-Bench-201-full-12-epochs.pth"
            official_store = pth.with_name(pth.name + ".store")
            if not (official_store / "index.json").is_file():
                start = time.perf_counter()
                subprocess.run([sys.executable, "-c", OFFICIAL_FILE_WRITER, str(pth), str(official_store)], check=True)
                emit_benchmark("multitrial", "write_official_file_and_store", round(time.perf_counter() - start, 1),
                               "s", device="cpu", archs=NUM_ARCHS)
            ours = time_end_to_end(official_store, work, 500, args.time_budget, args.repeats)
            original = time_original(args.original.resolve(), pth.resolve(), work, args.time_budget)
            emit_benchmark("multitrial", "end_to_end/speedup", round(original / ours, 1), "x", device="cpu",
                           ours_s=round(ours, 3), original_s=round(original, 3), runs=500)
        if work is not scratch:
            shutil.rmtree(work, ignore_errors=True)
        if args.proxy_cells > 0:
            time_proxies(args.proxy_cells, args.channel, args.num_cells, args.proxy_data)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
