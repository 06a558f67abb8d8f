"""Searches in float64 on the first few digits16 batches, for the tests that compare two searches step for step."""
import torch

from autodl.algorithms import algorithm_config, create_algorithm
from autodl.algorithms.oneshot.run import supernet_config
from autodl.data.search import SearchLoaders, get_search_loaders
from autodl.models import create_model

CPU = torch.device("cpu")


def float64_loaders(steps: int) -> SearchLoaders:
    """The first ``steps`` digits16 batches of each search loader in float64, drawn once (lists), so that every
    search given them sees the same ones."""
    real = get_search_loaders("digits16", batch_size=16, test_batch_size=60, workers=0)
    return SearchLoaders(*([[t.double() if t.is_floating_point() else t for t in batch]
                            for batch, _ in zip(loader, range(steps))] for loader in real[:3]))


def float64_task(name: str, loaders: SearchLoaders, optim, **settings):
    """Algorithm ``name`` on a float64 NB201 supernet (C=4, N=1) built from seed 0, generator seed 0."""
    torch.manual_seed(0)
    search = algorithm_config(name, channel=4, num_cells=1, **settings)
    net = create_model(supernet_config(name, search, 10)).double()
    return create_algorithm(name, net, loaders, optim, search, CPU, seed=0)
