"""Search a cell with a weight-sharing algorithm (DARTS-V1/V2, GDAS, SETN, ENAS, RSPS) on the NAS-Bench-201
or the DARTS/NASNet space; re-running with the same --save-dir resumes.  See docs/SEARCH.md."""
import dataclasses
from pathlib import Path

from autodl.algorithms import ALGORITHMS, algorithm_config
from autodl.algorithms.registry import always_fixed_settings, settings_by_algorithm
from autodl.algorithms.oneshot.run import load_search_recipe, result_text, run_search
from autodl.cli import ArgumentParser, existing_file, output_dir, positive_int, run_main
from autodl.cli.flags import add_data_flags, add_run_flags, run_options
from autodl.cli.settings import add_settings_flags, settings_overrides
from autodl.config import SEARCH_SPACES
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
    parser.add_argument("--save-dir", required=True, type=output_dir, help="run directory; reused = resumed")
    parser.add_argument("--recipe", type=existing_file, default=None,
                        help="search recipe JSON {optim, search} (default: configs/search/<space>/<ALGO>.json)")
    parser.add_argument("--epochs", type=positive_int, default=None, help="override the recipe's epochs")
    parser.add_argument("--batch-size", type=positive_int, default=None, help="override the recipe's batch size")
    parser.add_argument("--test-batch-size", type=positive_int, default=None, help="valid-set batch size")
    add_settings_flags(parser, settings_by_algorithm(), skip=("space", *always_fixed_settings()))
    parser.add_argument("--benchmark", default=None,
                        help="NAS-Bench-201 store or .pth: log the derived cell's benchmark accuracy every epoch")
    add_run_flags(parser)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    algorithm_config(args.algo, space=args.space)  # refuses an algorithm the space does not offer
    recipe = args.recipe or default_recipe(args.algo, args.space)
    overrides = settings_overrides(args, args.algo, settings_by_algorithm())
    optim, search = load_search_recipe(recipe, args.algo, **overrides)
    if args.epochs is not None:
        optim = dataclasses.replace(optim, epochs=args.epochs)
    result = run_search(args.algo, optim, search, args.dataset, args.save_dir, batch_size=args.batch_size,
                        test_batch_size=args.test_batch_size, benchmark=args.benchmark, **run_options(args))
    if result.artifact is not None:  # rank 0 writes the run; the other ranks stay silent
        print(result_text(args.algo, result.arch, result.artifact))
    return 0


if __name__ == "__main__":
    run_main(main)
