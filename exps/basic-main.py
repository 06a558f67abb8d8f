"""Train a classifier from a model config and an optimiser recipe (see docs/TRAINING.md)."""
from autodl.cli import run_main
from autodl.cli.train import train_from_args, training_parser


def build_parser():
    return training_parser("Train an image classifier; re-running with the same --save-dir resumes.")


def main(argv=None) -> int:
    train_from_args(build_parser().parse_args(argv))
    return 0


if __name__ == "__main__":
    run_main(main)
