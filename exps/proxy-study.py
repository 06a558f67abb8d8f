"""Zero-cost proxy study: Spearman's rho and Kendall's tau-b of every proxy (and of the parameter and FLOP
counts) with a NAS-Bench-201 store's accuracy, over N sampled cells; writes <save-dir>/correlations.md,
correlations.csv, scores.csv, result.json and a scatter plot per measure.  Re-running with the same --save-dir
resumes.  See docs/PROXY-STUDY.md."""
import sys

from autodl.algorithms.multitrial.curves import PLOT_HINT
from autodl.algorithms.multitrial.proxy_study import MEASURES, StudySettings, markdown_table, run_study
from autodl.cli import ArgumentParser, non_negative_int, output_dir, positive_int, run_main


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(description=__doc__.split(";")[0])
    parser.add_argument("--benchmark", required=True, help="NAS-Bench-201 store folder or .pth")
    parser.add_argument("--dataset", required=True,
                        help="benchmark dataset whose accuracy ranks the cells: cifar10, cifar10-valid, cifar100, "
                             "ImageNet16-120 (digits, digits-valid, digits-halves on the digits benchmark)")
    parser.add_argument("--split", default="test", help="accuracy split: test (the paper's), valid, or a recorded set")
    parser.add_argument("--hp", choices=("200", "12"), default="200", help="training epochs of the accuracy")
    parser.add_argument("--cells", type=positive_int, default=1000, help="cells sampled from the store")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="seed of the sample and the networks' weights")
    parser.add_argument("--proxies", nargs="+", default=list(MEASURES), metavar="NAME",
                        help=f"measures to report (default all: {', '.join(MEASURES)})")
    parser.add_argument("--proxy-data", default=None,
                        help="dataset of the proxies' batch (default: the benchmark dataset's; digits16 for digits)")
    parser.add_argument("--proxy-batch", type=positive_int, default=64, help="images in the proxies' batch")
    parser.add_argument("--channel", type=positive_int, default=16, help="network channels C")
    parser.add_argument("--num-cells", type=positive_int, default=5, help="cells per stage N")
    parser.add_argument("--data-path", default=None, help="dataset root (default: $TORCH_HOME/cifar.python)")
    parser.add_argument("--workers", type=positive_int, default=1, help="processes scoring cells in parallel")
    parser.add_argument("--save-dir", required=True, type=output_dir, help="run directory; reused = resumed")
    parser.add_argument("--quiet", action="store_true", help="print only the table")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    settings = StudySettings(
        benchmark=args.benchmark, dataset=args.dataset, cells=args.cells, seed=args.seed, hp=args.hp,
        split=args.split, measures=tuple(args.proxies), proxy_data=args.proxy_data, proxy_batch=args.proxy_batch,
        channel=args.channel, num_cells=args.num_cells, data_path=args.data_path)
    result = run_study(settings, args.save_dir, workers=args.workers,
                       progress=None if args.quiet else sys.stdout)
    print(markdown_table(result), end="")
    if not args.quiet:
        times = ", ".join(f"{name} {seconds * 1e3:.1f}" for name, seconds in result.seconds.items())
        print(f"{len(result.indexes)} cells ({result.scored_now} scored now), {settings.dataset} {settings.split} "
              f"accuracy (hp {settings.hp}); ms per cell: {times} -> {args.save_dir}/correlations.md")
    if not result.plotted:
        print(f"scatter plots not written: {PLOT_HINT} (the scores are in {args.save_dir}/scores.csv)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    run_main(main)
