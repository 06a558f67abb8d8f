"""Convert an official NAS-Bench-201 / NATS-Bench topology file into our memory-mapped store.

    python exps/NAS-Bench-201/convert.py $TORCH_HOME/NAS-Bench-201-v1_1-096897.pth \
        $TORCH_HOME/NAS-Bench-201-v1_1-096897.store
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Sequence

from autodl.benchmarks.nb201 import BenchmarkError, BenchmarkSource, convert
from autodl.cli import ArgumentParser, output_dir, run_main


def main(argv: Sequence[str] | None = None) -> int:
    parser = ArgumentParser(description="Convert a NAS-Bench-201 .pth / NATS .pickle.pbz2 file or NATS archive "
                                        "folder into a memory-mapped store folder.")
    parser.add_argument("source", help="NAS-Bench-201-v1_*.pth, NATS-tss-*.pickle.pbz2 or a NATS-tss-*-simple folder")
    parser.add_argument("target", type=output_dir, help="the store folder to create")
    parser.add_argument("--curve-dtype", choices=("float32", "float64"), default="float32",
                        help="precision of the per-epoch curves (last-epoch values and costs are always float64)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing target folder")
    args = parser.parse_args(argv)
    if Path(args.target).exists() and not args.overwrite:
        raise BenchmarkError(f"output {args.target} already exists; remove it, choose another path or pass --overwrite")
    start = time.perf_counter()
    source = BenchmarkSource.open(args.source)
    print(f"loaded {args.source}: {len(source.evaluated)}/{len(source.meta_archs)} evaluated architectures "
          f"in {time.perf_counter() - start:.1f} s")
    out = convert(source, args.target, curve_dtype=args.curve_dtype, overwrite=args.overwrite)
    size = sum(path.stat().st_size for path in out.rglob("*") if path.is_file())
    print(f"wrote {out} ({size / 2**20:.1f} MiB) in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    run_main(main)
