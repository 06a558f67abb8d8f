"""Evaluate a checkpoint of a classification run on its test set; prints one JSON line."""
from __future__ import annotations

import json

from autodl.cli import ArgumentParser, existing_file, non_negative_int, positive_int, run_main
from autodl.engine.train import evaluate_checkpoint


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(description="Evaluate <run>/checkpoint/{last,best}.pth on the test set.")
    parser.add_argument("--checkpoint", required=True, type=existing_file, help="checkpoint inside a run directory")
    parser.add_argument("--dataset", default=None, help="dataset (default: the run's)")
    parser.add_argument("--data-path", default=None, help="dataset root (default: $TORCH_HOME/cifar.python)")
    parser.add_argument("--batch-size", type=positive_int, default=256)
    parser.add_argument("--workers", type=non_negative_int, default=0)
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:K")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    result = evaluate_checkpoint(args.checkpoint, dataset=args.dataset, data_path=args.data_path,
                                 batch_size=args.batch_size, workers=args.workers, device=args.device)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    run_main(main)
