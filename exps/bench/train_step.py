"""Images/s of training steps of a small CNN through the engine (Trainer + ClassifierTask) versus a
bare hand-written PyTorch loop on the same model and batches; prints one JSON line per measurement."""
from __future__ import annotations

import argparse
import copy

import torch
from torch import nn

from autodl.config import OptimConfig
from autodl.engine.classification import ClassifierTask
from autodl.engine.timing import bench_device, interleaved_medians, timed
from autodl.engine.trainer import Trainer
from autodl.models import create_model
from autodl.utils import emit_benchmark as emit


def bare_loop(model: nn.Module, batches, config: OptimConfig, device) -> float:
    optimizer = torch.optim.SGD(model.parameters(), lr=config.LR, momentum=config.momentum,
                                weight_decay=config.decay, nesterov=config.nesterov)
    criterion = nn.CrossEntropyLoss()
    model.train()

    def loop() -> None:
        for inputs, targets in batches:
            inputs, targets = inputs.to(device), targets.to(device)
            optimizer.zero_grad(set_to_none=True)
            _, logits = model(inputs)
            criterion(logits, targets).backward()
            optimizer.step()

    return timed(loop, device)


def engine_loop(model: nn.Module, batches, config: OptimConfig, device) -> float:
    task = ClassifierTask(model, config, batches, {}, device, amp=False)
    return timed(Trainer(task, epochs=1, progress=False).fit, device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--channels", type=int, default=32)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: leave the default)")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    device = bench_device(args.threads, args.device)
    batches = [(torch.randn(args.batch_size, 3, 32, 32), torch.randint(0, 10, (args.batch_size,)))
               for _ in range(args.steps)]
    config = OptimConfig(epochs=1, LR=0.05, momentum=0.9, nesterov=True, decay=5e-4, scheduler="constant")
    reference = create_model({"name": "small-cnn", "channels": args.channels, "num_classes": 10})

    def fresh() -> nn.Module:
        return copy.deepcopy(reference).to(device)

    bare_loop(fresh(), batches[:3], config, device)  # warm-up
    medians = interleaved_medians({"bare": lambda: bare_loop(fresh(), batches, config, device),
                                   "engine": lambda: engine_loop(fresh(), batches, config, device)}, args.repeats)
    images = args.batch_size * args.steps
    rates = {name: images / seconds for name, seconds in medians.items()}
    for name, rate in rates.items():
        emit("train_step", name, round(rate, 1), "img/s", batch_size=args.batch_size, steps=args.steps,
             repeats=args.repeats, device=str(device))
    overhead = 100.0 * (rates["bare"] / rates["engine"] - 1.0)
    emit("train_step", "engine_overhead", round(overhead, 2), "%", batch_size=args.batch_size, device=str(device))


if __name__ == "__main__":
    main()
