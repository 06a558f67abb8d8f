"""Wall-clock timing for the ``exps/bench`` scripts: their torch setup, the seconds of one call, and
several runs timed interleaved."""
from __future__ import annotations

import statistics
import time
from typing import Callable, Mapping

import torch

from .device import resolve_device, synchronize


def bench_device(threads: int, device: str) -> torch.device:
    """Use ``threads`` torch threads (0: leave the default), seed torch with 0, and resolve ``device``."""
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    return resolve_device(device)


def timed(call: Callable[[], object], device: torch.device) -> float:
    """Seconds of ``call()``, including the work it queued on ``device``."""
    start = time.perf_counter()
    call()
    synchronize(device)
    return time.perf_counter() - start


def interleaved_medians(runs: Mapping[str, Callable[[], float]], repeats: int) -> dict[str, float]:
    """The median over ``repeats`` calls of each run (each returns its seconds), the runs interleaved and
    their order reversed every other repeat, so machine noise hits all of them alike."""
    order = list(runs)
    seconds: dict[str, list[float]] = {name: [] for name in order}
    for repeat in range(repeats):
        for name in (order if repeat % 2 == 0 else order[::-1]):
            seconds[name].append(runs[name]())
    return {name: statistics.median(values) for name, values in seconds.items()}
