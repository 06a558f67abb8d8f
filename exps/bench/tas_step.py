"""Time of one TAS search step (weight step + architecture step, the real ShapeSearchTask.train_step) on a
ResNet beside one plain training step of the same unpruned ResNet at the same batch; the ratio is the
search's overhead.  Prints one JSON line per measurement (median over repeats, runs interleaved)."""
from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

from autodl.algorithms.shape import ShapeSearchConfig, ShapeSearchTask
from autodl.config import OptimConfig
from autodl.data import SearchLoaders
from autodl.engine import get_model_infos
from autodl.engine.device import resolve_device
from autodl.models import create_model
from autodl.utils import emit_benchmark as emit

OPTIM = OptimConfig(epochs=1, LR=0.1, momentum=0.9, nesterov=True, decay=5e-4, scheduler="constant")


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def plain_step(model: nn.Module, optimizer: torch.optim.Optimizer, batch, device: torch.device) -> float:
    inputs, targets = batch[0].to(device), batch[1].to(device)
    start = time.perf_counter()
    optimizer.zero_grad(set_to_none=True)
    loss = nn.functional.cross_entropy(model(inputs)[1], targets)
    loss.backward()
    optimizer.step()
    synchronize(device)
    return time.perf_counter() - start


def search_step(task: ShapeSearchTask, batch, device: torch.device) -> float:
    start = time.perf_counter()
    task.train_step(batch, 0, 0.0)
    synchronize(device)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--depth", type=int, default=56, help="CIFAR ResNet depth")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--mode", default="shape", choices=("width", "depth", "shape"))
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: leave the default)")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    torch.manual_seed(0)
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
    times: dict[str, list[float]] = {"plain": [], "search": []}
    for repeat in range(args.repeats):  # interleaved, alternating the order, so machine noise hits both alike
        for name in (("plain", "search") if repeat % 2 == 0 else ("search", "plain")):
            seconds = plain_step(plain, optimizer, batch, device) if name == "plain" else search_step(task, pair, device)
            times[name].append(seconds)
    medians = {name: statistics.median(values) for name, values in times.items()}
    context = dict(model=f"ResNet-{args.depth}", batch_size=args.batch_size, repeats=args.repeats, mode=args.mode)
    emit("tas_step", "plain_train_step", round(medians["plain"] * 1000, 1), "ms", **context)
    emit("tas_step", "search_step", round(medians["search"] * 1000, 1), "ms", **context)
    emit("tas_step", "search_over_plain", round(medians["search"] / medians["plain"], 3), "x", **context)


if __name__ == "__main__":
    main()
