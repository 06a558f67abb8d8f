"""Multi-trial searches: ask/tell optimisers (random, REA, REINFORCE, BOHB) over a search space, one driver
(:func:`run_trials`) that owns the budget, the evaluator, the trial log and the workers, and the evaluators
(benchmark look-ups, real training, zero-cost proxies).  See docs/MULTI-TRIAL.md."""
from . import bohb, random_search, rea, reinforce  # noqa: F401  (register the optimisers)
from .base import OPTIMIZERS, Optimizer, Proposal, create_optimizer, register_optimizer
from .driver import SearchResult, Trial, run_trials
from .evaluators import BenchmarkEvaluator, Evaluation, Evaluator
from .space import HyperSpace, NB201Space, Param, SearchSpace

__all__ = ["OPTIMIZERS", "Optimizer", "Proposal", "create_optimizer", "register_optimizer", "SearchResult", "Trial",
           "run_trials", "BenchmarkEvaluator", "Evaluation", "Evaluator", "HyperSpace", "NB201Space", "Param",
           "SearchSpace"]
