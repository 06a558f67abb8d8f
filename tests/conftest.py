"""Shared test setup."""
import os

import pytest
import torch

pytest.register_assert_rewrite("helpers")


# Every process a test starts (entry points, launchers, torchrun workers, docs blocks) inherits this.
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="session", autouse=True)
def one_intra_op_thread():
    """The tests run many small forwards; on a 2-core machine shared with other work (and with one test
    worker per core), two intra-op threads contending for the cores make them up to 10x slower, so every
    test, and every process it starts, uses one thread."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


MAX_WORKERS = 4


def pytest_xdist_auto_num_workers(config):
    """`-n auto`: one worker per core, at most MAX_WORKERS (each worker holds torch and its test data in
    memory; beyond four, start-up and memory cost more than the remaining parallelism gains)."""
    return max(1, min(MAX_WORKERS, len(os.sched_getaffinity(0))))
