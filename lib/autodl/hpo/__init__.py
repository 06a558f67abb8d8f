"""Hyper-parameter optimisation: HPO-CG (gradient-based tuning of continuous hyper-parameters by
implicit differentiation) and its logistic-regression problem on ``digits``; :mod:`autodl.hpo.recipe`
tunes training recipes with the multi-trial optimisers. See docs/HPO.md."""
from .cg import (BilevelProblem, CGResult, HOAGResult, HyperGradient, NotPositiveDefiniteError, ToleranceSchedule,
                 conjugate_gradient, hoag, hypergradient, inner_solve)
from .logistic import L2LogisticRegression, digits_features, penalty_groups, tune_digits_l2

__all__ = ["BilevelProblem", "CGResult", "HOAGResult", "HyperGradient", "NotPositiveDefiniteError", "ToleranceSchedule",
           "conjugate_gradient", "hoag", "hypergradient", "inner_solve", "L2LogisticRegression", "digits_features",
           "penalty_groups", "tune_digits_l2"]
