"""Write a class-balanced train/valid split of a training set (as used by TAS) to a JSON file."""
from __future__ import annotations

import json

from autodl.cli import ArgumentParser, positive_float, run_main
from autodl.data import class_balanced_split, dataset_labels, get_datasets
from autodl.utils import atomic_write_text

PREPARE_DATASETS = ("cifar10", "cifar100", "imagenet-1k", "digits")


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(description="Split a training set class by class into train/valid index lists.")
    parser.add_argument("--name", required=True, choices=PREPARE_DATASETS, help="dataset to split")
    parser.add_argument("--root", "--data-path", dest="root", default=None,
                        help="dataset root (default: $TORCH_HOME/cifar.python)")
    parser.add_argument("--save", required=True, help="output JSON file {train, valid, class2numTrain, class2numValid}")
    parser.add_argument("--ratio", type=positive_float, default=0.5, help="share of each class that goes to train")
    parser.add_argument("--seed", type=int, default=111, help="seed of the per-class shuffles")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    labels = dataset_labels(get_datasets(args.name, args.root).train)
    split = class_balanced_split(labels, args.ratio, args.seed)
    atomic_write_text(args.save, json.dumps(split) + "\n")
    print(f"{args.name}: {len(split['train'])} train / {len(split['valid'])} valid images over "
          f"{len(split['class2numTrain'])} classes (ratio {args.ratio}, seed {args.seed}) -> {args.save}")
    return 0


if __name__ == "__main__":
    run_main(main)
