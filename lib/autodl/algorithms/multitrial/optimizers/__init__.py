"""The multi-trial optimisers (random search, REA, REINFORCE, BOHB, and any file added here): every module of
this package is imported on the first look-up of :data:`~autodl.algorithms.multitrial.base.OPTIMIZERS`, so a new
optimiser's file registers itself with no list to edit.  None of them imports torch."""
from ....registry import import_submodules

import_submodules(__name__)
