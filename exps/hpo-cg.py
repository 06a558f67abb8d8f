"""HPO-CG on ``digits``: tune the L2 penalty of logistic regression by implicit differentiation (HOAG).

One line per outer iteration (penalties, validation loss, inner and CG work), then one JSON object
with the train/valid/test loss and top-1 accuracy at the starting and at the tuned penalties.
With --save-dir, also result.json and history.jsonl there.
"""
from __future__ import annotations

import argparse
import json

from autodl.cli import ArgumentParser, output_dir, positive_float, positive_int, run_main
from autodl.hpo.cg import TOLERANCE_KINDS, ToleranceSchedule
from autodl.hpo.logistic import PENALTIES, tune_digits_l2


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(description="Tune the L2 penalties of logistic regression on digits with HPO-CG (HOAG).")
    parser.add_argument("--penalty", choices=PENALTIES, default="single",
                        help="one penalty for all weights, or one per image row (8)")
    parser.add_argument("--init", type=positive_float, default=1.0, help="starting value of every penalty")
    parser.add_argument("--iterations", type=positive_int, default=30, help="outer (hyper-gradient) steps")
    parser.add_argument("--tolerance", choices=TOLERANCE_KINDS, default="quadratic",
                        help="tolerance sequence eps_k of the inner and CG solves: 0.1/k^2, 0.1/k^3 or 0.1*0.9^(k-1)")
    parser.add_argument("--initial-tolerance", type=positive_float, default=0.1, help="eps_1")
    parser.add_argument("--lower", type=positive_float, default=1e-8, help="smallest penalty allowed")
    parser.add_argument("--upper", type=positive_float, default=1e3, help="largest penalty allowed")
    parser.add_argument("--save-dir", type=output_dir, default=None, help="write result.json and history.jsonl here")
    parser.add_argument("--quiet", action="store_true", help="print only the final JSON object")
    return parser


def print_iteration(record: dict) -> None:
    hyper = " ".join(f"{value:.3g}" for value in record["hyper"])
    print(f"k={record['iteration']:3d} lambda=[{hyper}] val_loss={record['val_loss']:.5f} "
          f"tol={record['tolerance']:.2g} inner_evals={record['inner_evaluations']} cg_iters={record['cg_iterations']}",
          flush=True)


def main(argv=None) -> int:
    args: argparse.Namespace = build_parser().parse_args(argv)
    schedule = ToleranceSchedule(initial=args.initial_tolerance, kind=args.tolerance)
    result = tune_digits_l2(args.penalty, init=args.init, iterations=args.iterations, schedule=schedule,
                            lower=args.lower, upper=args.upper, save_dir=args.save_dir,
                            callback=None if args.quiet else print_iteration)
    result.pop("history")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    run_main(main)
