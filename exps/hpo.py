"""HPO of a training recipe: tune OptimConfig keys (configs/hpo/*.json) of a model on a dataset with a
multi-trial optimiser; trials train in parallel worker processes (or as Ray tasks) and are scored on the
validation split.

One line per trial, then one JSON object (the best recipe and its validation accuracy). The run
directory holds trials.jsonl, config.json, trial-<n>/ (each trial's training run), result.json and
best-recipe.json. Running the same command again on the same --save-dir continues the search.
"""
from __future__ import annotations

import json

from autodl.algorithms.multitrial import OPTIMIZERS, HyperSpace, Trial
from autodl.algorithms.multitrial.backends import BACKENDS
from autodl.algorithms.multitrial.base import BUDGET_OPTIONS, options_by_algorithm
from autodl.cli import (ArgumentParser, existing_file, int_arg, non_negative_int, output_dir, positive_float,
                        positive_int, run_main)
from autodl.cli.flags import add_data_flags
from autodl.cli.settings import add_settings_flags, settings_overrides
from autodl.config import OptimConfig, load_any_config
from autodl.data import DATASETS
from autodl.hpo.recipe import tune_recipe


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(description=f"Tune a training recipe with a multi-trial optimiser "
                                        f"({', '.join(OPTIMIZERS.names())}); trials score on the validation split.")
    parser.add_argument("--algo", required=True, choices=OPTIMIZERS.names(), help="multi-trial optimiser")
    parser.add_argument("--space", required=True, type=existing_file, help="hyper-parameter space JSON (configs/hpo)")
    add_data_flags(parser, DATASETS.names())
    parser.add_argument("--model", required=True, type=existing_file, help="model config JSON (configs/archs)")
    parser.add_argument("--optim", required=True, type=existing_file,
                        help="base recipe (configs/opts); the space's keys replace its values")
    parser.add_argument("--epochs", type=positive_int, default=None,
                        help="override the base recipe's epochs (every trial's, except a multi-fidelity algorithm's)")
    parser.add_argument("--warmup", type=non_negative_int, default=None, help="override the base recipe's warm-up epochs")
    parser.add_argument("--save-dir", required=True, type=output_dir, help="run directory; reused = the search continues")
    parser.add_argument("--trials", type=positive_int, default=None, help="stop after this many trials")
    parser.add_argument("--time-budget", type=positive_float, default=None,
                        help="stop when the trials' training seconds would exceed this")
    parser.add_argument("--workers", type=positive_int, default=1, help="trials trained at the same time, one process each")
    parser.add_argument("--threads", type=positive_int, default=1,
                        help="torch threads of each trial (fixed, so a trial scores the same with any --workers)")
    parser.add_argument("--backend", choices=BACKENDS.names(), default="process",
                        help="where trials train: local worker processes, or Ray tasks (pip install -e .[ray])")
    parser.add_argument("--ray-address", default=None,
                        help="Ray cluster to use with --backend ray (default: start a local one with --workers x --threads CPUs)")
    multi_fidelity = [name for name in OPTIMIZERS.names() if OPTIMIZERS.get(name).multi_fidelity]
    group = parser.add_argument_group("algorithm options (each algorithm's own; [names] take it)")
    group.add_argument("--min-budget", type=positive_float, default=None,
                       help=f"smallest budget, in epochs (default: 1) [{', '.join(multi_fidelity)}]")
    group.add_argument("--max-budget", type=positive_float, default=None,
                       help=f"largest budget, in epochs (default: the base recipe's epochs) [{', '.join(multi_fidelity)}]")
    add_settings_flags(group, options_by_algorithm(), skip=BUDGET_OPTIONS, show_defaults=True)
    parser.add_argument("--seed", type=int_arg, default=0, help="seed of the optimiser and of every trial's training")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:K (every worker uses it)")
    parser.add_argument("--quiet", action="store_true", help="print only the final JSON object")
    return parser


def print_trial(trial: Trial) -> None:
    budget = "" if trial.budget is None else f" epochs={trial.budget:g}"
    print(f"trial={trial.trial}{budget} valid_top1={trial.score:.2f} cost_s={trial.cost:.1f} "
          f"recipe={json.dumps(trial.candidate)}", flush=True)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    space = HyperSpace.from_file(args.space)
    base = load_any_config(OptimConfig, args.optim, epochs=args.epochs, warmup=args.warmup)
    options = settings_overrides(args, args.algo, options_by_algorithm())
    result = tune_recipe(args.algo, space, args.model, base, args.dataset, args.save_dir, max_trials=args.trials,
                         time_budget=args.time_budget, workers=args.workers, seed=args.seed, data_path=args.data_path,
                         device=args.device, options=options, backend=args.backend, ray_address=args.ray_address, threads=args.threads,
                         on_trial=None if args.quiet else print_trial)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    run_main(main)
