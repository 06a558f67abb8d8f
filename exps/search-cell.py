"""Search a cell with a weight-sharing algorithm (DARTS-V1/V2, GDAS, SETN, ENAS, RSPS) on the NAS-Bench-201
or the DARTS/NASNet space; re-running with the same --save-dir resumes.  See docs/SEARCH.md."""
import dataclasses
from pathlib import Path

from autodl.algorithms import ALGORITHMS, algorithm_config
from autodl.algorithms.oneshot.run import load_search_recipe, run_search
from autodl.cli import ArgumentParser, existing_file, int_arg, positive_float, positive_int, run_main
from autodl.cli.flags import add_data_flags, add_run_flags, run_options
from autodl.config import CONTROLLER_BASELINES, SEARCH_SPACES, UNUSED_OP_UPDATES, SearchConfig
from autodl.errors import ConfigError
from autodl.data.search import SEARCH_DATASETS

RECIPES = Path(__file__).resolve().parents[1] / "configs" / "search"


def default_recipe(algorithm: str, space: str) -> Path:
    """The original's recipe for ``algorithm`` on ``space`` (configs/search/<space>/...)."""
    name = ALGORITHMS.get(algorithm).recipe
    path = None if name is None else RECIPES / space / (
        f"{name}.json" if space == "nas-bench-201" else f"{name}-NASNet-CIFAR.json")
    if path is None or not path.is_file():
        raise ConfigError(f"no recipe is shipped for {algorithm!r} on the {space!r} space; "
                          f"pass --recipe FILE (a JSON {{optim, search}} like configs/search/{space}/*.json)")
    return path


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(description=__doc__.split(";")[0])
    parser.add_argument("--algo", required=True, choices=ALGORITHMS.names(), help="search algorithm")
    parser.add_argument("--space", default="nas-bench-201", choices=SEARCH_SPACES, help="search space")
    add_data_flags(parser, SEARCH_DATASETS)
    parser.add_argument("--save-dir", required=True, help="run directory; reused = resumed")
    parser.add_argument("--recipe", type=existing_file, default=None,
                        help="search recipe JSON {optim, search} (default: configs/search/<space>/<ALGO>.json)")
    parser.add_argument("--epochs", type=positive_int, default=None, help="override the recipe's epochs")
    parser.add_argument("--batch-size", type=positive_int, default=None, help="override the recipe's batch size")
    parser.add_argument("--test-batch-size", type=positive_int, default=None, help="valid-set batch size")
    parser.add_argument("--channel", type=positive_int, default=None, help="supernet channels C")
    parser.add_argument("--num-cells", type=positive_int, default=None, help="search cells per stage N")
    parser.add_argument("--track-running-stats", type=int_arg, choices=[0, 1], default=None,
                        help="BN running statistics in the search cells (the scripts' BN argument)")
    parser.add_argument("--arch-lr", type=positive_float, default=None, help="architecture learning rate (arch_LR)")
    parser.add_argument("--stop-skip-limit", type=positive_int, default=None,
                        help="DARTS+: stop when the derived normal cell holds this many skip connections")
    parser.add_argument("--stop-rank-patience", type=positive_int, default=None,
                        help="DARTS+: stop when the ranking of the conv ops' parameters was stable this many epochs")
    parser.add_argument("--select-num", type=positive_int, default=None, help="SETN/RSPS: candidates per selection")
    parser.add_argument("--tau-max", type=positive_float, default=None, help="GDAS: initial temperature")
    parser.add_argument("--tau-min", type=positive_float, default=None, help="GDAS: final temperature")
    parser.add_argument("--gradient-clip", type=float, default=None, help="weight-gradient norm clip (<= 0: off)")
    parser.add_argument("--unused-ops", choices=UNUSED_OP_UPDATES, default=None,
                        help="what SGD does to an op that ran before but not in this step: decay (weight decay and "
                             "momentum, the original on PyTorch 1.x; default) or skip (the original on PyTorch >= 2)")
    parser.add_argument("--controller-baseline", choices=CONTROLLER_BASELINES, default=None,
                        help="ENAS: epoch (the original's epoch-start baseline; default) or sample (the paper's running one)")
    parser.add_argument("--controller-train-steps", type=positive_int, default=None, help="ENAS: controller updates per epoch")
    parser.add_argument("--controller-num-aggregate", type=positive_int, default=None, help="ENAS: samples per update")
    parser.add_argument("--controller-num-samples", type=positive_int, default=None, help="ENAS: final candidates")
    parser.add_argument("--benchmark", default=None,
                        help="NAS-Bench-201 store or .pth: log the derived cell's benchmark accuracy every epoch")
    add_run_flags(parser)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    algorithm_config(args.algo, SearchConfig(space=args.space))  # refuses an algorithm the space does not offer
    recipe = args.recipe or default_recipe(args.algo, args.space)
    optim, search = load_search_recipe(
        recipe, space=args.space, channel=args.channel, num_cells=args.num_cells,
        track_running_stats=None if args.track_running_stats is None else bool(args.track_running_stats),
        arch_LR=args.arch_lr, stop_skip_limit=args.stop_skip_limit, stop_rank_patience=args.stop_rank_patience,
        select_num=args.select_num, tau_max=args.tau_max, tau_min=args.tau_min, gradient_clip=args.gradient_clip,
        unused_ops=args.unused_ops, controller_baseline=args.controller_baseline,
        controller_train_steps=args.controller_train_steps, controller_num_aggregate=args.controller_num_aggregate,
        controller_num_samples=args.controller_num_samples)
    if args.epochs is not None:
        optim = dataclasses.replace(optim, epochs=args.epochs)
    result = run_search(args.algo, optim, search, args.dataset, args.save_dir, batch_size=args.batch_size,
                        test_batch_size=args.test_batch_size, benchmark=args.benchmark, **run_options(args))
    if result.artifact is not None:  # rank 0 writes the run; the other ranks stay silent
        print(f"{args.algo}: {result.arch} -> {result.artifact}")
    return 0


if __name__ == "__main__":
    run_main(main)
