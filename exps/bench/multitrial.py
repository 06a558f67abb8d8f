"""Benchmark: 500 multi-trial searches on a full-size NAS-Bench-201 store, and the zero-cost proxy evaluator.

Prints one JSON object per measurement:
{"bench": "multitrial", "case": ..., "value": <seconds>, "unit": "s", ...context}.
The store is synthetic (15,625 architectures, the v1_1 shape with 200-epoch curves) with accuracies and
times that follow a known function of the cell (12-epoch training of 48-192 s, like the real file), so each
search at the 12,000 s simulated budget evaluates about as many cells as on the real benchmark.
``rea_500_runs`` times 500 REA runs (seeds 0..499) in this process; ``random``/``reinforce``/``bohb`` likewise
with ``--algos``.  ``proxy_<name>_all_cells`` scores ``--proxy-cells`` cells of the space with each proxy on
one batch of 64 digits images (32 x 32, C=16, N=5 by default) and extrapolates to all 15,625 (``estimated``: true).
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import torch

from autodl.algorithms.multitrial import BenchmarkEvaluator, create_optimizer, run_trials
from autodl.algorithms.multitrial.proxies import PROXIES, ProxyEvaluator, fixed_batch
from autodl.benchmarks.nb201 import NB201Benchmark
from autodl.benchmarks.nb201.synthetic import write_synthetic_store
from autodl.spaces.nb201 import NUM_ARCHS, benchmark_archs
from autodl.utils import emit_benchmark

SCRIPT_OPTIONS = {"rea": {"population": 10, "sample_size": 3}, "reinforce": {"learning_rate": 0.5}, "random": {},
                  "bohb": {"n_iters": 50, "num_samples": 4, "random_fraction": 0.0, "min_bandwidth": 0.3}}


def cell_accuracy(arch_str: str) -> float:
    """The store's accuracy of a cell: convolutions help, 'none' edges hurt (40..88 %)."""
    return 40.0 + 8.0 * arch_str.count("nor_conv_3x3") + 4.0 * arch_str.count("nor_conv_1x1") - 6.0 * arch_str.count("none")


def time_searches(bench: NB201Benchmark, algo: str, runs: int, budget: float) -> None:
    evaluator = BenchmarkEvaluator(bench, "cifar10")  # builds the per-table look-up lists once
    trials = 0
    start = time.perf_counter()
    for seed in range(runs):
        evaluator.seed = seed
        result = run_trials(create_optimizer(algo, evaluator.space, seed, **SCRIPT_OPTIONS[algo]), evaluator,
                            time_budget=budget)
        trials += len(result.trials)
    seconds = time.perf_counter() - start
    emit_benchmark("multitrial", f"{algo}_{runs}_runs", round(seconds, 4), "s", device="cpu", runs=runs,
                   time_budget_s=budget, trials=trials, us_per_trial=round(1e6 * seconds / trials, 2))


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
    parser.add_argument("--algos", nargs="+", default=["rea"], choices=list(SCRIPT_OPTIONS), help="algorithms to time")
    parser.add_argument("--proxy-cells", type=int, default=20, help="cells scored per proxy (0: skip the proxies)")
    parser.add_argument("--channel", type=int, default=16, help="proxy network channels C")
    parser.add_argument("--num-cells", type=int, default=5, help="proxy network cells per stage N")
    parser.add_argument("--proxy-data", default="digits", choices=["digits", "digits16"], help="images of the proxy batch")
    parser.add_argument("--store", default=None, help="reuse this synthetic store folder (written if missing)")
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
        for algo in args.algos:
            time_searches(bench, algo, args.runs, args.time_budget)
        if args.proxy_cells > 0:
            time_proxies(args.proxy_cells, args.channel, args.num_cells, args.proxy_data)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
