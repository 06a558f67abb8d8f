"""Random search ("RS"): uniformly random candidates until the budget runs out."""
from __future__ import annotations

from ..base import Optimizer, Proposal, register_optimizer


@register_optimizer("random")
class RandomSearch(Optimizer):
    """Proposes ``space.sample`` forever; the driver keeps the best."""

    def ask(self) -> Proposal:
        return Proposal(self.space.sample(self.rng))

    def tell(self, proposal: Proposal, score: float) -> None:
        """Random search does not learn."""
