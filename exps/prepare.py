"""Write a class-balanced train/valid split of a training set (as used by TAS) to a JSON file, or write a fake
CIFAR-10 / CIFAR-100 / ImageNet16 in the official on-disk format (``fake-cifar10 DIR`` ...) for smoke runs."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from autodl.cli import ArgumentParser, non_negative_int, output_dir, output_file, positive_float, positive_int, run_main
from autodl.data import class_balanced_split, dataset_labels, get_datasets
from autodl.data.fakes import FAKE_SETS
from autodl.utils import atomic_write_text

PREPARE_DATASETS = ("cifar10", "cifar100", "imagenet-1k", "digits")
FAKE_COMMANDS = {f"fake-{name}": name for name in FAKE_SETS}


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        description="Split a training set class by class into train/valid index lists.",
        epilog=f"{' / '.join(FAKE_COMMANDS)} DIR: write a fake dataset of random images under DIR instead "
               "(see prepare.py fake-cifar10 --help)")
    parser.add_argument("--name", required=True, choices=PREPARE_DATASETS, help="dataset to split")
    parser.add_argument("--root", "--data-path", dest="root", default=None,
                        help="dataset root (default: $TORCH_HOME/cifar.python)")
    parser.add_argument("--save", required=True, type=output_file,
                        help="output JSON file {train, valid, class2numTrain, class2numValid}")
    parser.add_argument("--ratio", type=positive_float, default=0.5, help="share of each class that goes to train")
    parser.add_argument("--seed", type=int, default=111, help="seed of the per-class shuffles")
    return parser


def fake_parser(command: str) -> ArgumentParser:
    fake = FAKE_SETS[FAKE_COMMANDS[command]]
    parser = ArgumentParser(prog=f"prepare.py {command}",
                            description=f"Write a fake {FAKE_COMMANDS[command]} (random pixels, label = index mod "
                                        "classes) in the official file format under DIR, the data root that "
                                        "--data-path takes; the default sizes fit the shipped splits.")
    parser.add_argument("root", type=output_dir, metavar="DIR", help="data root (e.g. $TORCH_HOME/cifar.python)")
    parser.add_argument("--train", type=positive_int, default=fake.n_train, help="training images")
    parser.add_argument("--test", type=positive_int, default=fake.n_test, help="test images")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="seed of the random pixels")
    return parser


def write_fake(command: str, argv: list[str]) -> int:
    args = fake_parser(command).parse_args(argv)
    name = FAKE_COMMANDS[command]
    fake = FAKE_SETS[name]
    written = fake.write(args.root, n_train=args.train, n_test=args.test, seed=args.seed)
    print(f"fake {name}: {args.train} train / {args.test} test images -> {args.root}")
    if name == "ImageNet16":  # the loaders check the official files' MD5s unless given these
        table = Path(args.root) / "ImageNet16" / "checksums.json"
        atomic_write_text(table, json.dumps(written, indent=2) + "\n")
        print(f"MD5s of the fake files -> {table} (the loaders accept them only as the checksums option)")
    problem = fake.split_problem(args.train, args.test)
    if problem is not None:
        print(f"note: {problem}, so those settings and splits refuse this set; plain training works")
    return 0


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in FAKE_COMMANDS:
        return write_fake(argv[0], argv[1:])
    args = build_parser().parse_args(argv)
    labels = dataset_labels(get_datasets(args.name, args.root).train)
    split = class_balanced_split(labels, args.ratio, args.seed)
    atomic_write_text(args.save, json.dumps(split) + "\n")
    print(f"{args.name}: {len(split['train'])} train / {len(split['valid'])} valid images over "
          f"{len(split['class2numTrain'])} classes (ratio {args.ratio}, seed {args.seed}) -> {args.save}")
    return 0


if __name__ == "__main__":
    run_main(main)
