"""Weight-sharing searches: DARTS-V1/V2, DARTS+, GDAS, SETN, ENAS, RSPS and NASP on the one search task."""
from . import darts, darts_plus, enas, gdas, nasp, rsps, setn  # noqa: F401
from .base import SearchTask

__all__ = ["SearchTask"]
