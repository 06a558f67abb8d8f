"""Search algorithms, each a small class on the shared engine, built by :func:`create_algorithm`."""
from .registry import ALGORITHMS, AlgorithmSpec, algorithm_config, create_algorithm, register_algorithm
from . import oneshot  # noqa: F401  (registers the weight-sharing searches)

__all__ = ["ALGORITHMS", "AlgorithmSpec", "algorithm_config", "create_algorithm", "register_algorithm"]
