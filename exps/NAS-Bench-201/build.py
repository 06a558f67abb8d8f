"""Build a NAS-Bench-201 benchmark: ``train`` architectures with the benchmark recipes, ``merge`` the results.

    # 200-epoch results of indexes 0..389 on the four settings, seeds 777 888 999
    python exps/NAS-Bench-201/build.py train --save-dir output/NB201 --hp 200 --srange 0 389
    # the same range split over 4 machines: this one takes every 4th index from the 2nd
    python exps/NAS-Bench-201/build.py train --save-dir output/NB201 --hp 200 --srange 0 15624 --shard 1/4
    # several processes of one machine (each takes rank/world_size of the indexes; one GPU each)
    torchrun --nproc_per_node 8 exps/NAS-Bench-201/build.py train --save-dir output/NB201 --srange 0 15624
    # merge every result file into a store (and an official-layout .pth)
    python exps/NAS-Bench-201/build.py merge --results output/NB201 --out NB201.store --official NB201.pth
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from autodl.benchmarks.nb201 import NASBench201API
from autodl.benchmarks.nb201.builder import (BUILD_SETTINGS, OFFICIAL_SETTINGS, BuildConfig, BuildError, Runtime,
                                             build, parse_shard, process_device, select_indexes, shard_indexes,
                                             torchrun_process)
from autodl.benchmarks.nb201.merge import build_store
from autodl.cli import ArgumentParser, non_negative_int, output_dir, output_file, positive_int, run_main
from autodl.spaces.nb201 import arch_to_index, as_arch, index_to_arch

RECIPES = Path(__file__).resolve().parents[2] / "configs" / "nas-benchmark"


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(description="Train NAS-Bench-201 architectures with the benchmark recipes and merge "
                                        "the per-(architecture, seed) results into a benchmark store.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)
    train = commands.add_parser("train", help="train an index range (or some architectures) on the chosen settings")
    train.add_argument("--save-dir", required=True, type=output_dir,
                       help="output folder; results go to <save-dir>/hp<hp>/")
    train.add_argument("--hp", choices=("12", "200"), default="200",
                       help="recipe: 12 = LESS (12 epochs), 200 = CIFAR / ImageNet-16 (200 epochs)")
    train.add_argument("--settings", nargs="+", choices=BUILD_SETTINGS, default=list(OFFICIAL_SETTINGS),
                       help="dataset settings to train each architecture on")
    train.add_argument("--seeds", nargs="+", type=non_negative_int,
                       help="seeds (default: 777 888 999 for hp 200, 111 777 for hp 12)")
    which = train.add_mutually_exclusive_group(required=True)
    which.add_argument("--srange", nargs=2, type=non_negative_int, metavar=("START", "END"),
                       help="inclusive range of architecture indexes")
    which.add_argument("--arch-index", nargs="+", type=non_negative_int, help="explicit architecture indexes")
    which.add_argument("--arch", nargs="+", help="architecture strings, e.g. '|nor_conv_3x3~0|+|...|'")
    train.add_argument("--shard", default="0/1", help="i/n: take every n-th index of the range starting at the i-th")
    train.add_argument("--channel", type=positive_int, default=16, help="channels C of the first stage")
    train.add_argument("--num-cells", type=positive_int, default=5, help="cells N per stage")
    train.add_argument("--epochs", type=positive_int, help="override the recipe's epochs (small demos only)")
    train.add_argument("--batch-size", type=positive_int, help="override the recipe's batch size (256)")
    train.add_argument("--test-batch-size", type=positive_int, help="evaluation and latency batch size "
                                                                    "(default: the training batch size)")
    train.add_argument("--digits-size", type=positive_int, default=32, help="image size of the digits settings (8, 16 or 32)")
    train.add_argument("--data-path", help="dataset root (default: $TORCH_HOME/cifar.python)")
    train.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:K")
    train.add_argument("--workers", type=non_negative_int, default=4, help="data loader workers")
    train.add_argument("--amp", action="store_true", help="mixed precision on CUDA (the released files used fp32)")
    train.add_argument("--cover", action="store_true", help="retrain and overwrite finished result files")
    train.add_argument("--recipes", default=str(RECIPES), help="folder with LESS.json, CIFAR.json, ImageNet-16.json")
    train.add_argument("--quiet", action="store_true", help="no per-epoch log lines")

    merge = commands.add_parser("merge", help="merge result files into a store (and an official-layout .pth)")
    merge.add_argument("--results", nargs="+", required=True, help="result folders (the --save-dir of the builds)")
    merge.add_argument("--out", required=True, type=output_dir, help="store folder to write")
    merge.add_argument("--official", type=output_file, help="also write the official-layout benchmark .pth here")
    merge.add_argument("--with-weights", action="store_true", help="keep the trained weights in the .pth")
    merge.add_argument("--archive", type=output_dir, help="also write one <index:06d>-FULL.pth per architecture, with weights, "
                                         "into this folder (for the API's reload)")
    merge.add_argument("--curve-dtype", choices=("float32", "float64"), default="float32",
                       help="precision of the per-epoch curves in the store")
    merge.add_argument("--overwrite", action="store_true", help="replace an existing store folder")
    return parser


def _indexes(args) -> list[int]:
    shard = parse_shard(args.shard)
    process = torchrun_process()
    if args.srange is not None:
        return select_indexes(args.srange[0], args.srange[1], shard, process)
    chosen = args.arch_index if args.arch_index is not None else [arch_to_index(as_arch(text)) for text in args.arch]
    if len(set(chosen)) != len(chosen):
        raise BuildError(f"architectures {chosen} are listed more than once; list each once")
    for index in chosen:
        index_to_arch(index)  # a one-line error for an index outside 0..15624
    return shard_indexes(chosen, shard, process)


def train(args) -> int:
    config = BuildConfig(settings=tuple(args.settings), recipes_dir=Path(args.recipes), hp=args.hp,
                         seeds=tuple(args.seeds or ()), channel=args.channel, num_cells=args.num_cells,
                         epochs=args.epochs, batch_size=args.batch_size, test_batch_size=args.test_batch_size,
                         digits_size=args.digits_size, amp=args.amp)
    config.fingerprint()  # reads the recipes: a missing one fails before any training
    indexes = _indexes(args)
    rank, world_size = torchrun_process()
    runtime = Runtime(args.data_path, args.device, args.workers, verbose=not args.quiet)
    device = process_device(args.device)
    total = len(indexes) * len(config.seeds)
    print(f"process {rank}/{world_size} shard {args.shard}: {len(indexes)} architectures x {len(config.seeds)} seeds "
          f"(hp {config.hp}, {', '.join(config.settings)}) on {device} -> {args.save_dir}", flush=True)
    done = [0]

    def report(index: int, seed: int, path: Path, trained: bool) -> None:
        done[0] += 1
        print(f"[{done[0]}/{total}] arch {index:06d} seed {seed}: {'trained' if trained else 'skipped (finished)'} "
              f"-> {path}", flush=True)

    build(indexes, config, runtime, args.save_dir, cover=args.cover, device=device, on_done=report)
    return 0


def merge(args) -> int:
    out = build_store(args.results, args.out, official_path=args.official, keep_weights=args.with_weights,
                      curve_dtype=args.curve_dtype, overwrite=args.overwrite, archive_dir=args.archive)
    api = NASBench201API(str(out), verbose=False)
    extra = [path for path in (args.official, args.archive) if path]
    print(f"wrote {out}: {api}" + "".join(f" and {path}" for path in extra))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return train(args) if args.command == "train" else merge(args)


if __name__ == "__main__":
    run_main(main)
