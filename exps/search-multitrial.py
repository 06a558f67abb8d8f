"""Multi-trial NAS on the NAS-Bench-201 space (the registered optimisers: --help lists them) with a benchmark, real
training or a zero-cost proxy as the evaluator; one run writes <save-dir>/result.json, --runs K writes
<save-dir>/summary.json, both with the anytime curve (curves.csv, curves.png).  Training and proxy searches
print a line per trial.  Re-running with the same --save-dir resumes.  A benchmark search imports no torch.
See docs/MULTI-TRIAL.md."""
import sys
from pathlib import Path

from autodl.plotting import PLOT_HINT, Plotter

PLOTTER = Plotter() if __name__ == "__main__" else None
"""Started before the imports below: the child imports matplotlib on the other core while this process imports,
searches and summarises, then draws curves.png (tests that load this file as a module draw in their process)."""

from autodl.algorithms.multitrial import OPTIMIZERS  # noqa: E402  (after the plotter, which must start first)
from autodl.algorithms.multitrial.base import options_by_algorithm
from autodl.algorithms.multitrial.backends import BACKENDS, Backend
from autodl.algorithms.multitrial.run import search_many, search_once, table_row
from autodl.algorithms.multitrial.settings import EVALUATORS, PROXY_NAMES, SearchSettings
from autodl.cli import ArgumentParser, existing_file, non_negative_int, positive_float, positive_int, run_main
from autodl.cli.settings import add_settings_flags, settings_overrides
from autodl.errors import ConfigError

LESS_RECIPE = Path(__file__).resolve().parents[1] / "configs" / "nas-benchmark" / "LESS.json"
"""The NAS-Bench-201 12-epoch recipe (SGD nesterov 0.9, LR 0.1 cosine, weight decay 5e-4)."""

def build_parser() -> ArgumentParser:
    parser = ArgumentParser(description=__doc__.split(";")[0])
    parser.add_argument("--algo", required=True, choices=OPTIMIZERS.names(), help="search algorithm")
    parser.add_argument("--benchmark", default=None, help="NAS-Bench-201 store folder or .pth (the benchmark evaluator)")
    parser.add_argument("--dataset", default=None,
                        help="with a benchmark: cifar10, cifar100, ImageNet16-120 (or digits), required; else the data "
                             "to train on (default: the built-in digits)")
    parser.add_argument("--time-budget", type=positive_float, default=12000.0,
                        help="seconds of (simulated, with a benchmark) evaluation cost per search")
    parser.add_argument("--max-trials", type=positive_int, default=None, help="stop after this many trials")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="seed of a single run (--runs K: seeds 0..K-1)")
    parser.add_argument("--runs", type=positive_int, default=None, help="run searches with seeds 0..RUNS-1 and summarise")
    parser.add_argument("--save-dir", required=True, help="run directory; reused = resumed")
    parser.add_argument("--evaluator", choices=list(EVALUATORS), default=None,
                        help="default: benchmark with --benchmark, else training")
    parser.add_argument("--multi-fidelity", action="store_true",
                        help="benchmark evaluator: answer a multi-fidelity algorithm's budgets (BOHB's) from the 200-epoch curves "
                             "(default: 12-epoch records)")
    parser.add_argument("--workers", type=positive_int, default=1,
                        help="workers (parallel runs with --runs; parallel trials with the training evaluator)")
    parser.add_argument("--backend", choices=BACKENDS.names(), default="process",
                        help="where the workers run: local processes, or Ray tasks (pip install -e .[ray])")
    parser.add_argument("--ray-address", default=None,
                        help="Ray cluster of --backend ray (default: start a local one with --workers CPUs)")
    add_settings_flags(parser.add_argument_group("algorithm options (each algorithm's own; [names] take it)"),
                       options_by_algorithm(), show_defaults=True)
    group = parser.add_argument_group("training and proxy evaluators")
    group.add_argument("--proxy", choices=PROXY_NAMES, default="naswot", help="zero-cost proxy")
    group.add_argument("--proxy-data", default="digits16", help="dataset of the proxy's batch")
    group.add_argument("--proxy-batch", type=positive_int, default=64, help="images in the proxy's batch")
    group.add_argument("--channel", type=positive_int, default=16, help="network channels C")
    group.add_argument("--num-cells", type=positive_int, default=5, help="cells per stage N")
    group.add_argument("--recipe", type=existing_file, default=str(LESS_RECIPE),
                       help="training recipe JSON (OptimConfig); --epochs and --batch-size override it")
    group.add_argument("--epochs", type=positive_int, default=12, help="training epochs (a multi-fidelity algorithm's budgets instead)")
    group.add_argument("--batch-size", type=positive_int, default=64, help="training batch size")
    group.add_argument("--data-path", default=None, help="dataset root (default: $TORCH_HOME/cifar.python)")
    group.add_argument("--device", default="cpu", help="training device: cpu, cuda or cuda:K")
    parser.add_argument("--quiet", action="store_true", help="print only the result line (no line per trial)")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    options = settings_overrides(args, args.algo, options_by_algorithm())
    evaluator = args.evaluator or ("benchmark" if args.benchmark else "training")
    if args.dataset is None and evaluator == "benchmark":
        raise ConfigError("the benchmark evaluator needs --dataset: cifar10, cifar100 or ImageNet16-120 (the search "
                          "split and the reported test split follow from it)")
    settings = SearchSettings(
        algorithm=args.algo, dataset=args.dataset or "digits", time_budget=args.time_budget,
        max_trials=args.max_trials, evaluator=evaluator, benchmark=args.benchmark,
        multi_fidelity=args.multi_fidelity, options=options, proxy=args.proxy, proxy_data=args.proxy_data,
        proxy_batch=args.proxy_batch, channel=args.channel, num_cells=args.num_cells, epochs=args.epochs,
        recipe=args.recipe if evaluator == "training" else None, batch_size=args.batch_size, data_path=args.data_path, device=args.device,
        workers=args.workers if args.runs is None else 1)
    backend = Backend(args.backend, args.ray_address)
    if args.runs is None:
        row = search_once(settings, args.seed, args.save_dir, backend, progress=None if args.quiet else sys.stdout,
                          plotter=PLOTTER)
        test = "" if row["test_accuracy"] is None else f" test_accuracy={row['test_accuracy']:.2f}"
        print(f"{args.algo}: {row['arch']} index={row['index']} score={row['score']:.4g}{test} cost_s={row['cost_s']:.1f} "
              f"trials={row['trials']} -> {args.save_dir}/result.json")
        plotted = row["plot"]
    else:
        summary = search_many(settings, args.runs, args.save_dir, workers=args.workers, backend=backend, plotter=PLOTTER)
        if not args.quiet:
            print("| algorithm | dataset | valid (200 epochs) | test (paper protocol) | runs |")
        print(table_row(summary) + f" -> {args.save_dir}/summary.json")
        plotted = summary["plot"]
    if plotted is None:
        print(f"curves.png not written: {PLOT_HINT} (the curve is in {args.save_dir}/curves.csv)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    run_main(main)
