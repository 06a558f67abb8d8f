"""Benchmark: build every NAS-Bench-201 network (C=16, N=5, CIFAR-10 shape) and count its parameters and FLOPs.

Prints one JSON object per measurement:
{"bench": "nb201_models", "case": ..., "value": <seconds>, "unit": "s", "torch": ..., "threads": ...}.
With ``--limit K`` only the first K architectures (in benchmark-index order, a random mix of the space)
are timed and the whole-space time is extrapolated; the record then says both.
"""
from __future__ import annotations

import argparse
import time

import torch

from autodl.engine import count_flops, count_parameters
from autodl.models.nb201 import TinyNetwork
from autodl.spaces.nb201 import NUM_ARCHS, benchmark_archs
from autodl.utils import emit_benchmark


def emit(case: str, seconds: float, **context) -> None:
    """Print one timing as a JSON line."""
    emit_benchmark("nb201_models", case, round(seconds, 3), "s", device="cpu", **context)


def run(limit: int) -> None:
    """Time building, parameter counting and FLOP counting of the first ``limit`` benchmark architectures."""
    archs = benchmark_archs()[:limit]
    build = count = 0.0
    for arch in archs:
        start = time.perf_counter()
        model = TinyNetwork(16, 5, arch, 10)
        middle = time.perf_counter()
        count_parameters(model)
        count_flops(model, (1, 3, 32, 32))
        build += middle - start
        count += time.perf_counter() - middle
    scale = NUM_ARCHS / len(archs)
    context = {"measured_archs": len(archs), "measured_s": round(build + count, 3), "estimated": len(archs) < NUM_ARCHS}
    emit("build_and_count_all", (build + count) * scale, **context)
    emit("build_all", build * scale, **context)
    emit("count_all", count * scale, **context)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=NUM_ARCHS,
                        help=f"time only this many architectures and extrapolate to all {NUM_ARCHS}")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    args = parser.parse_args()
    if not 1 <= args.limit <= NUM_ARCHS:
        parser.error(f"--limit must be in 1..{NUM_ARCHS}")
    torch.set_num_threads(args.threads)
    run(args.limit)


if __name__ == "__main__":
    main()
