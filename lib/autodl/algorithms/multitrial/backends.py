"""Where the multi-trial driver's parallel work runs: local worker processes or Ray tasks, chosen by name.

A back-end opens an executor (:class:`concurrent.futures.Executor`: ``submit``, ``map``, ``shutdown``) of a
number of workers; the driver submits a ``parallel`` evaluator's trials to it (:func:`~.driver.run_trials`),
``search_many`` its independent runs, and the HPO recipe search its trainings.  The trial log, the budget,
the order in which results are told and resume stay the driver's, so a search gives the same results on
either back-end.

``process``: a pool of spawned local processes.  ``ray``: every call is a Ray task of ``cpus_per_task`` CPUs
on the cluster at ``address``, or, without one, on the Ray instance this process already started, else on
a new local one with ``workers * cpus_per_task`` CPUs (shut down again with the executor).  Ray is optional
(``pip install -e .[ray]``); on a cluster every node needs autodl installed and run directories on a shared
file system.
"""
from __future__ import annotations

import importlib
import multiprocessing
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable

from ...errors import ConfigError
from ...registry import Registry

BACKENDS: Registry[Callable[["Backend", int], Executor]] = Registry("parallel back-end")
"""Back-end name -> ``open(backend, workers) -> Executor``."""


class MissingDependencyError(ConfigError):
    """An optional dependency that the chosen setting needs is not installed."""


@dataclass(frozen=True)
class Backend:
    """A back-end by name with its options (``address``: a Ray cluster; ``cpus_per_task``: CPUs Ray reserves
    for each call, e.g. the torch threads of a training trial)."""

    name: str = "process"
    address: str | None = None
    cpus_per_task: float = 1.0

    def __post_init__(self) -> None:
        BACKENDS.get(self.name)
        if self.address is not None and self.name != "ray":
            raise ConfigError(f"--ray-address applies to --backend ray, not {self.name}; drop it or use --backend ray")

    def open(self, workers: int) -> Executor:
        """An executor that runs ``workers`` calls at a time."""
        return BACKENDS.get(self.name)(self, workers)


@BACKENDS.register("process")
def _process_pool(backend: Backend, workers: int) -> Executor:
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))


def import_ray() -> ModuleType:
    """The ``ray`` module, or a one-line error saying how to install it."""
    try:
        return importlib.import_module("ray")
    except ImportError:
        raise MissingDependencyError("--backend ray needs Ray, which is not installed; "
                                     "run pip install -e .[ray] or use --backend process") from None


def _call(function: Callable[..., Any], *args: Any) -> Any:
    return function(*args)


class RayExecutor(Executor):
    """Runs each submitted call as a Ray task; the futures are :class:`concurrent.futures.Future` objects that
    raise the call's own exception (an AutoDLError still says what to fix), not Ray's wrapper."""

    def __init__(self, workers: int, address: str | None = None, cpus_per_task: float = 1.0) -> None:
        self.ray = import_ray()
        self.started = not self.ray.is_initialized()
        if self.started:
            self.ray.init(address=address, num_cpus=None if address else workers * cpus_per_task,
                          logging_level="ERROR", log_to_driver=False)
        self._task = self.ray.remote(num_cpus=cpus_per_task)(_call)

    def submit(self, function: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        if kwargs:
            raise TypeError("RayExecutor.submit takes positional arguments only")
        future: Future = Future()
        self._task.remote(function, *args).future().add_done_callback(lambda done: _settle(future, done))
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if self.started:
            self.ray.shutdown()
            self.started = False


def _settle(future: Future, done: Future) -> None:
    error = done.exception()
    if error is None:
        future.set_result(done.result())
        return
    cause = getattr(error, "cause", None)  # RayTaskError: the call's exception is its cause
    future.set_exception(cause if isinstance(cause, BaseException) else error)


@BACKENDS.register("ray")
def _ray_tasks(backend: Backend, workers: int) -> Executor:
    return RayExecutor(workers, backend.address, backend.cpus_per_task)
