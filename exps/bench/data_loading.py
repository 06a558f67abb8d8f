"""Benchmark of the CIFAR training pipeline on generated CIFAR-10 files: reading the pickles, per-image
augmentation (flip, crop, normalise, cutout) and batching through a DataLoader.

Prints one JSON object per measurement: {"bench": "data_loading", "case": ..., "value": ..., "unit": "img/s", ...}.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

import torch
from torch.utils.data import DataLoader

from autodl.data import get_datasets, with_transform
from autodl.data.cifar import CIFAR10
from autodl.data.fakes import write_fake_cifar10
from autodl.utils import emit_benchmark
from autodl.data.transforms import Compose, Cutout, Normalize, RandomCrop, RandomHorizontalFlip, ToFloat


def emit(case: str, images: int, seconds: float, **context) -> None:
    """Print one throughput measurement as a JSON line."""
    emit_benchmark("data_loading", case, round(images / seconds, 1), "img/s", images=images,
                   seconds=round(seconds, 4), device="cpu", **context)


def run(n_train: int, batch_size: int, workers: list[int], cutout: int) -> None:
    """Time the stages on a generated CIFAR-10 folder of ``n_train`` training images."""
    with tempfile.TemporaryDirectory() as root:
        write_fake_cifar10(root, n_train=n_train, n_test=100)
        start = time.perf_counter()
        train = get_datasets("cifar10", root, cutout=cutout).train
        emit("decode", n_train, time.perf_counter() - start)
        torch.manual_seed(0)
        start = time.perf_counter()
        for index in range(len(train)):
            train[index]
        emit("augment", n_train, time.perf_counter() - start, cutout=cutout, pipeline="fused uint8 (ImagePipeline)")
        steps = [RandomHorizontalFlip(), RandomCrop(32, 4), ToFloat(), Normalize(CIFAR10.mean, CIFAR10.std)]
        stepwise = with_transform(train, Compose(steps + ([Cutout(cutout)] if cutout > 0 else [])))
        start = time.perf_counter()
        for index in range(len(stepwise)):
            stepwise[index]
        emit("augment-stepwise", n_train, time.perf_counter() - start, cutout=cutout, pipeline="one torch call per step")
        for count in workers:
            loader = DataLoader(train, batch_size=batch_size, shuffle=True, num_workers=count)
            start = time.perf_counter()
            seen = sum(len(labels) for _, labels in loader)
            emit("loader-epoch", seen, time.perf_counter() - start, workers=count, batch_size=batch_size, cutout=cutout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10000, help="generated training images (default 10000)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 2], help="DataLoader worker counts to time")
    parser.add_argument("--cutout", type=int, default=16, help="cutout length, 0 for none")
    args = parser.parse_args()
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    run(args.images, args.batch_size, args.workers, args.cutout)


if __name__ == "__main__":
    main()
