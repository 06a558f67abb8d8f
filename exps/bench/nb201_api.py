"""Benchmark of the NAS-Bench-201 API: official ``nas_201_api`` (when installed) against our store.

Prints one JSON object per measurement: ``{"bench": "nb201_api", "case", "value", "unit", ...context}``.

* A full-size store (15,625 architectures, 4 datasets, hp 12 and 200, the v1_1 seed counts) is
  written from random arrays; our API opens it and answers queries (open time, resident memory,
  ``get_more_info`` latency, ``find_best`` and one metric for every architecture).
* An official-layout v1_1 ``.pth`` with ``--archs`` records (the full 15,625 would need ~30-40 GB of
  RAM to load, which this machine does not have) is loaded by the official API and by ours and
  converted; times and memory growth are also given scaled linearly to 15,625 records
  (``scaled_to_15625``).  These phases all import torch first, so their memory baselines match.

Every phase runs in its own subprocess so that peak resident memory (``ru_maxrss``) is its own.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from autodl.utils import emit_benchmark

FULL_ARCHS = 15625


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb() -> float:
    """This process's peak resident memory (``VmHWM``: unlike ``ru_maxrss`` it is not inherited across exec)."""
    with open("/proc/self/status") as handle:
        line = next(line for line in handle if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def per_call_us(function: Callable[[int], Any], indexes: list[int]) -> float:
    """Mean time per call over ``indexes``, after one untimed pass (pages and caches warm, as in a search loop)."""
    for index in indexes:
        function(index)
    start = time.perf_counter()
    for index in indexes:
        function(index)
    return (time.perf_counter() - start) / len(indexes) * 1e6


def timed_ms(function: Callable[[], Any]) -> float:
    start = time.perf_counter()
    function()
    return (time.perf_counter() - start) * 1e3


# ------------------------------------------------------------------------------------------ workers
def worker_make_file(path: str, archs: int) -> dict:
    import torch

    from autodl.benchmarks.nb201.synthetic import arch_strings, make_record

    meta = arch_strings(FULL_ARCHS)
    start = time.perf_counter()
    data = {"meta_archs": meta, "arch2infos": {i: make_record(i, meta[i]) for i in range(archs)},
            "evaluated_indexes": set(range(archs)), "total_archs": FULL_ARCHS}
    generate = time.perf_counter() - start
    torch.save(data, path)
    return {"generate_s": generate, "save_s": time.perf_counter() - start - generate,
            "file_mb": os.path.getsize(path) / 2**20, "peak_rss_mb": peak_mb()}


def same_baseline(kind: str) -> None:
    """Import torch in the file-based phases even where ours does not need it, so that every phase starts
    from the same resident heap (torch's import leaves freed memory that a later load reuses)."""
    if kind != "ours-store":
        import torch  # noqa: F401


def worker_api(kind: str, path: str, archs: int, queries: int) -> dict:
    import numpy as np

    same_baseline(kind)
    if kind == "official":
        from nas_201_api import NASBench201API
    else:
        from autodl.benchmarks.nb201 import NASBench201API
    baseline = rss_mb()
    start = time.perf_counter()
    api = NASBench201API(path, verbose=False)
    load_s = time.perf_counter() - start
    opened_rss = rss_mb()
    rng = random.Random(0)
    indexes = [rng.randrange(archs) for _ in range(queries)]
    random.seed(0)
    result = {
        "load_s": load_s, "baseline_rss_mb": baseline, "rss_after_load_mb": opened_rss,
        "get_more_info_hp12_random_us": per_call_us(lambda i: api.get_more_info(i, "cifar10-valid", hp="12"), indexes),
        "get_more_info_hp200_mean_us": per_call_us(
            lambda i: api.get_more_info(i, "cifar100", hp="200", is_random=False), indexes),
        "get_cost_info_us": per_call_us(lambda i: api.get_cost_info(i, "cifar10", hp="200"), indexes[:200]),
        "find_best_first_ms": timed_ms(lambda: api.find_best("cifar10", "valid", hp="200")),
        "find_best_ms": timed_ms(lambda: api.find_best("cifar100", "valid", 100.0, None, hp="200")),
    }
    if kind == "ours-store":
        from autodl.benchmarks.nb201 import NB201Benchmark

        bench = NB201Benchmark(api._store)
        result["metric_all_first_ms"] = timed_ms(lambda: bench.metric_all("ImageNet16-120", "test"))
        result["metric_all_ms"] = timed_ms(lambda: bench.metric_all("cifar10", "test"))
        result["final_accuracies_ms"] = timed_ms(lambda: bench.final_accuracies("cifar100"))
        assert np.isfinite(bench.final_accuracies("cifar100")).all()
    result["peak_rss_mb"] = peak_mb()
    return result


def worker_convert(path: str, out: str) -> dict:
    from autodl.benchmarks.nb201 import convert

    same_baseline("convert")
    baseline = rss_mb()
    start = time.perf_counter()
    convert(path, out)
    size = sum(p.stat().st_size for p in Path(out).rglob("*") if p.is_file())
    return {"convert_s": time.perf_counter() - start, "baseline_rss_mb": baseline, "peak_rss_mb": peak_mb(),
            "store_mb": size / 2**20}


def worker_write_store(out: str, archs: int) -> dict:
    from autodl.benchmarks.nb201.synthetic import write_synthetic_store

    start = time.perf_counter()
    write_synthetic_store(out, archs)
    size = sum(p.stat().st_size for p in Path(out).rglob("*") if p.is_file())
    return {"write_s": time.perf_counter() - start, "store_mb": size / 2**20}


def run_worker(*args: str) -> dict:
    completed = subprocess.run([sys.executable, __file__, "--worker", *args], capture_output=True, text=True)
    if completed.returncode != 0:
        raise RuntimeError(f"worker {args[0]} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


# -------------------------------------------------------------------------------------------- main
def emit(case: str, value: float, unit: str, **context: Any) -> None:
    emit_benchmark("nb201_api", case, round(value, 3), unit, device="cpu", **context)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archs", type=int, default=500, help="records in the official-layout .pth (scaled to 15,625)")
    parser.add_argument("--full-archs", type=int, default=FULL_ARCHS, help="architectures in the synthetic store")
    parser.add_argument("--queries", type=int, default=5000, help="random queries per latency measurement")
    parser.add_argument("--workdir", default=None, help="scratch folder (default: a temporary one, deleted)")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        kind, rest = args.worker[0], args.worker[1:]
        workers = {"make-file": lambda: worker_make_file(rest[0], int(rest[1])),
                   "api": lambda: worker_api(rest[0], rest[1], int(rest[2]), int(rest[3])),
                   "convert": lambda: worker_convert(rest[0], rest[1]),
                   "write-store": lambda: worker_write_store(rest[0], int(rest[1]))}
        print(json.dumps(workers[kind]()))
        return 0
    os.makedirs(args.workdir or tempfile.gettempdir(), exist_ok=True)  # a --workdir that does not exist yet
    with tempfile.TemporaryDirectory(dir=args.workdir) as scratch:
        scratch_path = Path(scratch)
        store = str(scratch_path / "full.store")
        written = run_worker("write-store", store, str(args.full_archs))
        emit("synthetic_store_size", written["store_mb"], "MB", archs=args.full_archs)
        ours = run_worker("api", "ours-store", store, str(args.full_archs), str(args.queries))
        context = {"backend": "store", "archs": args.full_archs}
        emit("load_time", ours["load_s"], "s", **context)
        emit("rss_after_load", ours["rss_after_load_mb"], "MB", **context)
        emit("peak_rss", ours["peak_rss_mb"], "MB", note="after all queries", **context)
        emit("get_more_info_hp12", ours["get_more_info_hp12_random_us"], "us", **context)
        emit("get_more_info_hp200_seed_mean", ours["get_more_info_hp200_mean_us"], "us", **context)
        emit("get_cost_info", ours["get_cost_info_us"], "us", **context)
        emit("find_best_first_call", ours["find_best_first_ms"], "ms", **context)
        emit("find_best", ours["find_best_ms"], "ms", **context)
        emit("metric_all_first_call", ours["metric_all_first_ms"], "ms", **context)
        emit("metric_all", ours["metric_all_ms"], "ms", **context)
        shutil_free(store)

        path = str(scratch_path / "NAS-Bench-201-v1_1-synthetic.pth")
        made = run_worker("make-file", path, str(args.archs))
        scale = FULL_ARCHS / args.archs
        emit("official_file_size", made["file_mb"], "MB", archs=args.archs, scaled_to_15625=round(made["file_mb"] * scale, 1))
        backends = [("ours-file", "ours .pth (ArchResults objects)")]
        try:
            import nas_201_api  # noqa: F401

            backends.insert(0, ("official", "nas_201_api 2.1"))
        except ImportError:
            emit("official_api", 0, "skipped", note="pip install nas-bench-201 to compare")
        for kind, label in backends:
            result = run_worker("api", kind, path, str(args.archs), str(args.queries))
            context = {"backend": label, "archs": args.archs}
            grown = result["peak_rss_mb"] - result["baseline_rss_mb"]
            emit("load_time", result["load_s"], "s", scaled_to_15625=round(result["load_s"] * scale, 1), **context)
            emit("peak_rss", result["peak_rss_mb"], "MB", baseline_mb=round(result["baseline_rss_mb"], 1),
                 scaled_to_15625=round(result["baseline_rss_mb"] + grown * scale, 1), **context)
            emit("get_more_info_hp12", result["get_more_info_hp12_random_us"], "us", **context)
            emit("get_more_info_hp200_seed_mean", result["get_more_info_hp200_mean_us"], "us", **context)
            emit("get_cost_info", result["get_cost_info_us"], "us", **context)
            emit("find_best", result["find_best_ms"], "ms", scaled_to_15625=round(result["find_best_ms"] * scale, 1), **context)
        converted = run_worker("convert", path, str(scratch_path / "converted.store"))
        grown = converted["peak_rss_mb"] - converted["baseline_rss_mb"]
        emit("convert_time", converted["convert_s"], "s", archs=args.archs,
             scaled_to_15625=round(converted["convert_s"] * scale, 1))
        emit("convert_peak_rss", converted["peak_rss_mb"], "MB", archs=args.archs, baseline_mb=round(converted["baseline_rss_mb"], 1),
             scaled_to_15625=round(converted["baseline_rss_mb"] + grown * scale, 1))
    return 0


def shutil_free(path: str) -> None:
    """Delete a finished store early so the scratch disk holds one large thing at a time."""
    import shutil

    shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
