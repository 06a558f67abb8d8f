"""Distributed data parallel under ``torchrun``: NCCL on GPU, gloo on CPU."""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def env_dist_info() -> DistInfo:
    """The process layout that ``torchrun`` describes in the environment (one process outside it)."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistInfo()
    return DistInfo(int(os.environ["RANK"]), world_size, int(os.environ.get("LOCAL_RANK", "0")))


def init_distributed(device: torch.device) -> DistInfo:
    """Join the process group that ``torchrun`` describes in the environment; a no-op for one process.

    On CUDA each process takes the GPU of its local rank.
    """
    info = env_dist_info()
    if info.enabled and not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(local_device(device, info))
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return info


def local_device(device: torch.device, info: DistInfo) -> torch.device:
    """The device this process uses: for a plain ``cuda`` under ``torchrun``, the GPU of its local rank
    (wrapping around when processes outnumber GPUs); an explicit ``cuda:K`` or the CPU is kept."""
    if device.type == "cuda" and device.index is None and info.enabled:
        return torch.device("cuda", info.local_rank % torch.cuda.device_count())
    return device


def wrap_ddp(model: nn.Module, device: torch.device, info: DistInfo) -> nn.Module:
    if not info.enabled:
        return model
    return nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)


def all_reduce_sum(tensor: torch.Tensor) -> torch.Tensor:
    """Sum ``tensor`` over processes (in place) when a process group is running; NCCL reduces on the GPU."""
    if dist.is_available() and dist.is_initialized():
        if dist.get_backend() == "nccl" and tensor.device.type != "cuda":
            on_gpu = tensor.cuda()
            dist.all_reduce(on_gpu, op=dist.ReduceOp.SUM)
            tensor.copy_(on_gpu.cpu())
        else:
            dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def average_gradients(params) -> None:
    """Average the gradients of ``params`` over processes with one all-reduce (a no-op for one process).

    Parameters without a gradient are skipped; the searches sample rank-consistently, so every rank
    holds gradients for the same parameters."""
    if not (dist.is_available() and dist.is_initialized()):
        return
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    flat = all_reduce_sum(torch.cat([g.reshape(-1) for g in grads]))
    flat /= dist.get_world_size()
    offset = 0
    for grad in grads:
        grad.copy_(flat[offset:offset + grad.numel()].view_as(grad))
        offset += grad.numel()


def rank0_value(value: int) -> int:
    """Rank 0's ``value`` on every process (e.g. a seed each rank drew at random); unchanged for one process."""
    if not (dist.is_available() and dist.is_initialized()):
        return value
    mine = torch.tensor([value if dist.get_rank() == 0 else 0], dtype=torch.int64)
    return int(all_reduce_sum(mine)[0])


def barrier() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def cleanup() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def average_buffers(model: nn.Module) -> None:
    """Average floating-point buffers (BatchNorm running statistics) over processes, so every rank
    evaluates and checkpoints the same model; a no-op for one process."""
    if not (dist.is_available() and dist.is_initialized()):
        return
    world_size = dist.get_world_size()
    for buffer in model.buffers():
        if buffer.is_floating_point():
            dist.all_reduce(buffer, op=dist.ReduceOp.SUM)
            buffer.div_(world_size)
