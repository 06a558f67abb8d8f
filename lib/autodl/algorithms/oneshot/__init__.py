"""Weight-sharing searches: DARTS-V1/V2, GDAS, SETN, ENAS and RSPS on the one search task."""
from . import darts, enas, gdas, rsps, setn  # noqa: F401
from .base import SearchTask

__all__ = ["SearchTask"]
