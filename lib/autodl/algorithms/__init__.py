"""Search algorithms: the weight-sharing searches (:mod:`.oneshot`, each a small class on the shared engine, built
by :func:`create_algorithm`) and the multi-trial searches (:mod:`.multitrial`, whose benchmark searches import no
torch)."""
from .registry import ALGORITHMS, AlgorithmSpec, algorithm_config, create_algorithm, register_algorithm

__all__ = ["ALGORITHMS", "AlgorithmSpec", "algorithm_config", "create_algorithm", "register_algorithm"]
