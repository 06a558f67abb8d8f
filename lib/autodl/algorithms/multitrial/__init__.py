"""Multi-trial searches: ask/tell optimisers (random, REA, REINFORCE, BOHB) over a search space, one driver
(:func:`run_trials`) that owns the budget, the evaluator, the trial log and the workers, and the evaluators
(benchmark look-ups, real training, zero-cost proxies); the workers are local processes or Ray tasks
(:mod:`.backends`).  A benchmark search imports no torch: the training and proxy evaluators' modules do, and
are imported when chosen.  See docs/MULTI-TRIAL.md."""
from .backends import BACKENDS, Backend
from .base import OPTIMIZERS, Optimizer, Options, Proposal, create_optimizer, register_optimizer
from .driver import SearchResult, Trial, run_trials
from .evaluators import BenchmarkEvaluator, Evaluation, Evaluator
from .space import HyperSpace, NB201Space, Param, SearchSpace

__all__ = ["BACKENDS", "Backend", "OPTIMIZERS", "Optimizer", "Options", "Proposal", "create_optimizer", "register_optimizer",
           "SearchResult", "Trial", "run_trials", "BenchmarkEvaluator", "Evaluation", "Evaluator", "HyperSpace",
           "NB201Space", "Param", "SearchSpace"]
