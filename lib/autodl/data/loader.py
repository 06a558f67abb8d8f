"""DataLoader construction shared by training and search: worker count, pinning, DDP sharding."""
from __future__ import annotations

import torch
from torch.utils.data import DataLoader, Dataset, Subset
from torch.utils.data.distributed import DistributedSampler

from ..utils import max_steps_per_epoch


def make_loader(dataset: Dataset, batch_size: int, shuffle: bool, workers: int = 0,
                world_size: int = 1, rank: int = 0, drop_last: bool = False, seed: int = 0) -> DataLoader:
    """A loader that shards ``dataset`` across processes when ``world_size`` > 1.

    Shuffling draws from torch's global generator (or the sampler's seed under DDP), and workers are
    re-created every epoch (not persistent) so their seeds also come from it: a seeded run and its
    resumed continuation see the same batches and the same augmentation.  In a smoke run
    (``$AUTODL_MAX_STEPS_PER_EPOCH``) an evaluation loader (``shuffle`` False) reads only that many batches.
    """
    steps = max_steps_per_epoch()
    if steps is not None and not shuffle:
        dataset = Subset(dataset, range(min(len(dataset), steps * batch_size)))
    sampler = None
    if world_size > 1:
        sampler = DistributedSampler(dataset, num_replicas=world_size, rank=rank, shuffle=shuffle, seed=seed)
        shuffle = False
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, sampler=sampler,
                      num_workers=workers, pin_memory=torch.cuda.is_available(),
                      persistent_workers=False, drop_last=drop_last)
