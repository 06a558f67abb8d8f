"""The Ray back-end of the multi-trial driver: each trial runs as a Ray task, on any node of a cluster.

The driver evaluates a ``parallel`` evaluator's trials in its worker processes
(:func:`~autodl.algorithms.multitrial.run_trials` with ``workers`` > 1). :class:`RayEvaluator` wraps
another evaluator so that those processes only submit the trial to Ray and wait for its result:
``workers`` trials run at a time wherever the cluster has room, and the trial log, the budget and
resume stay the driver's. Ray is optional (``pip install -e .[ray]``); on a cluster every node needs
autodl installed and the run directory on a shared file system.
"""
from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from ..algorithms.multitrial import Evaluation, Evaluator
from ..errors import ConfigError


class MissingDependencyError(ConfigError):
    """An optional dependency that the chosen setting needs is not installed."""


def import_ray() -> ModuleType:
    """The ``ray`` module, or a one-line error saying how to install it."""
    try:
        return importlib.import_module("ray")
    except ImportError:
        raise MissingDependencyError("--backend ray needs Ray, which is not installed; "
                                     "run pip install -e .[ray] or use --backend process") from None


def _evaluate_trial(evaluator: Evaluator, candidate: Any, budget: float | None, trial: int) -> Evaluation:
    return evaluator.evaluate(candidate, budget, trial)


class RayEvaluator(Evaluator):
    """Runs the trials of ``inner`` as Ray tasks of ``cpus_per_trial`` CPUs on the Ray cluster at
    ``address`` (the GCS address). A driver worker process connects on its first trial, as a Ray job
    of its own, with ``runtime_env`` (pass the search's, so the tasks see the same environment)."""

    parallel = True

    def __init__(self, inner: Evaluator, address: str, runtime_env: dict[str, Any] | None = None,
                 cpus_per_trial: float = 1.0) -> None:
        self.inner, self.address, self.runtime_env, self.cpus_per_trial = inner, address, runtime_env, cpus_per_trial
        self.space, self.multi_fidelity = inner.space, inner.multi_fidelity

    @classmethod
    def on_current_cluster(cls, inner: Evaluator, cpus_per_trial: float = 1.0) -> "RayEvaluator":
        """Wrap ``inner`` for the Ray instance this process is connected to, with its runtime environment."""
        context = import_ray().get_runtime_context()
        return cls(inner, context.gcs_address, dict(context.runtime_env) or None, cpus_per_trial)

    def evaluate(self, candidate: Any, budget: float | None, trial: int) -> Evaluation:
        ray = import_ray()
        if not ray.is_initialized():
            ray.init(address=self.address, runtime_env=self.runtime_env, logging_level="ERROR", log_to_driver=False)
        task = ray.remote(num_cpus=self.cpus_per_trial)(_evaluate_trial)
        try:
            return ray.get(task.remote(self.inner, candidate, budget, trial))
        except ray.exceptions.RayTaskError as error:
            # the trial's own exception (an AutoDLError says what to fix); Ray's wrapper does not pickle
            # back to the driver
            cause = getattr(error, "cause", None)
            if isinstance(cause, Exception):
                raise cause from None
            raise RuntimeError(f"trial {trial} failed in Ray: {error}") from None

    def report(self, candidate: Any) -> dict[str, Any] | None:
        return self.inner.report(candidate)

    def describe(self) -> dict[str, Any]:
        return self.inner.describe()
