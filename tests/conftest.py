"""Shared test setup."""
import os

import pytest
import torch

pytest.register_assert_rewrite("helpers")


@pytest.fixture(scope="session", autouse=True)
def one_intra_op_thread():
    """The tests run many small forwards; on a 2-core machine shared with other work, two intra-op
    threads contending for the cores make them up to 10x slower, so every test uses one thread."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


MAX_WORKERS = 4


def pytest_xdist_auto_num_workers(config):
    """`-n auto`: one worker per core, at most MAX_WORKERS (each worker holds torch and its test data in
    memory; beyond four, start-up and memory cost more than the remaining parallelism gains)."""
    return max(1, min(MAX_WORKERS, len(os.sched_getaffinity(0))))
