"""DataLoader construction shared by training and search: worker count, pinning, DDP sharding."""
from __future__ import annotations

import torch
from torch.utils.data import DataLoader, Dataset
from torch.utils.data.distributed import DistributedSampler


def make_loader(dataset: Dataset, batch_size: int, shuffle: bool, workers: int = 0,
                world_size: int = 1, rank: int = 0, drop_last: bool = False, seed: int = 0) -> DataLoader:
    """A loader that shards ``dataset`` across processes when ``world_size`` > 1.

    Shuffling draws from torch's global generator (or the sampler's seed under DDP), and workers are
    re-created every epoch (not persistent) so their seeds also come from it: a seeded run and its
    resumed continuation see the same batches and the same augmentation.
    """
    sampler = None
    if world_size > 1:
        sampler = DistributedSampler(dataset, num_replicas=world_size, rank=rank, shuffle=shuffle, seed=seed)
        shuffle = False
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, sampler=sampler,
                      num_workers=workers, pin_memory=torch.cuda.is_available(),
                      persistent_workers=False, drop_last=drop_last)
