"""Weight-sharing searches: DARTS-V1/V2, DARTS+, GDAS, SETN, ENAS, RSPS and NASP on the one search task.

Every module of this package is imported here, so a new algorithm's file registers itself with no list to edit."""
from ...registry import import_submodules
from .base import SearchTask

import_submodules(__name__)

__all__ = ["SearchTask"]
