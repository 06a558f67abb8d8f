"""Shared test setup."""
import os
import shlex
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
import torch

pytest.register_assert_rewrite("helpers")


# Every process a test starts (entry points, launchers, torchrun workers, docs blocks) inherits this.
os.environ.setdefault("OMP_NUM_THREADS", "1")

INTERPRETER_FOLDER = pytest.StashKey[Path]()


def pytest_configure(config):
    """``python`` and ``torchrun`` in a launcher or a docs block that a test starts run the interpreter
    that runs the tests (``sys.executable``), not whatever ``python`` comes first on ``PATH``, so that
    the suite tests this checkout from a virtual environment that is not activated: a folder with two
    wrappers goes first on ``PATH`` of this process, and so of every process it starts."""
    folder = Path(tempfile.mkdtemp(prefix="autodl-test-python-"))
    for name, module in (("python", ""), ("torchrun", " -m torch.distributed.run")):
        (folder / name).write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)}{module} "$@"\n')
        (folder / name).chmod(0o755)
    config.stash[INTERPRETER_FOLDER] = folder
    os.environ["PATH"] = f"{folder}{os.pathsep}{os.environ.get('PATH', '')}"


def pytest_unconfigure(config):
    folder = config.stash[INTERPRETER_FOLDER]
    os.environ["PATH"] = os.environ["PATH"].replace(f"{folder}{os.pathsep}", "", 1)
    shutil.rmtree(folder, ignore_errors=True)



DOCS_PAGE_TESTS = pytest.StashKey[dict]()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Record, before ``-k`` and ``-m`` deselect any, which collected tests run which docs page (their
    ``docs_page`` mark), keyed by page and slowness: tests/test_docs.py checks that each is one test."""
    tests = config.stash.setdefault(DOCS_PAGE_TESTS, {})
    for item in items:
        for mark in item.iter_markers("docs_page"):
            tests.setdefault((mark.args[0], item.get_closest_marker("slow") is not None), []).append(item.nodeid)


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
