"""Time of one TAS search step (weight step + architecture step, the real ShapeSearchTask.train_step) on a
ResNet beside one plain training step of the same unpruned ResNet at the same batch; the ratio is the
search's overhead.  Prints one JSON line per measurement (median over repeats, runs interleaved)."""
from __future__ import annotations

import argparse

import torch
from torch import nn

from autodl.algorithms.shape import ShapeSearchConfig, ShapeSearchTask
from autodl.config import OptimConfig
from autodl.data import SearchLoaders
from autodl.engine import get_model_infos
from autodl.engine.timing import bench_device, interleaved_medians, timed
from autodl.models import create_model
from autodl.utils import emit_benchmark as emit

OPTIM = OptimConfig(epochs=1, LR=0.1, momentum=0.9, nesterov=True, decay=5e-4, scheduler="constant")


def plain_step(model: nn.Module, optimizer: torch.optim.Optimizer, batch, device: torch.device) -> float:
    inputs, targets = batch[0].to(device), batch[1].to(device)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(model(inputs)[1], targets).backward()
        optimizer.step()

    return timed(step, device)


def search_step(task: ShapeSearchTask, batch, device: torch.device) -> float:
    return timed(lambda: task.train_step(batch, 0, 0.0), device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--depth", type=int, default=56, help="CIFAR ResNet depth")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--mode", default="shape", choices=("width", "depth", "shape"))
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: leave the default)")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    device = bench_device(args.threads, args.device)
    batch = [torch.randn(args.batch_size, 3, 32, 32), torch.randint(0, 10, (args.batch_size,))]
    pair = [*batch, torch.randn(args.batch_size, 3, 32, 32), torch.randint(0, 10, (args.batch_size,))]

    plain = create_model({"name": "cifar-resnet", "depth": args.depth}).to(device).train()
    optimizer = torch.optim.SGD(plain.parameters(), lr=OPTIM.LR, momentum=OPTIM.momentum, nesterov=True,
                                weight_decay=OPTIM.decay)
    net = create_model({"name": "search.shape-cifar-resnet", "depth": args.depth, "mode": args.mode})
    max_mflops = get_model_infos(net, (1, 3, 32, 32))[0]
    task = ShapeSearchTask(net.to(device), SearchLoaders([pair], [batch], [batch], 10), OPTIM,
                           ShapeSearchConfig(mode=args.mode), device, max_mflops)
    task.start_epoch(0, 1)
    plain_step(plain, optimizer, batch, device)  # warm-up
    search_step(task, pair, device)
    medians = interleaved_medians({"plain": lambda: plain_step(plain, optimizer, batch, device),
                                   "search": lambda: search_step(task, pair, device)}, args.repeats)
    context = dict(model=f"ResNet-{args.depth}", batch_size=args.batch_size, repeats=args.repeats, mode=args.mode)
    emit("tas_step", "plain_train_step", round(medians["plain"] * 1000, 1), "ms", **context)
    emit("tas_step", "search_step", round(medians["search"] * 1000, 1), "ms", **context)
    emit("tas_step", "search_over_plain", round(medians["search"] / medians["plain"], 3), "x", **context)


if __name__ == "__main__":
    main()
