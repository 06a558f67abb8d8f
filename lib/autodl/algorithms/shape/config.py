"""The TAS search settings, a JSON-checkable dataclass like every other config kind."""
from __future__ import annotations

from dataclasses import dataclass, field

from ...errors import ConfigError
from ...models.shape_search import SEARCH_MODES


@dataclass(frozen=True)
class ShapeSearchConfig:
    """Settings of the TAS shape search (spec 3.2): what is searched, the FLOP target as a share of the
    unpruned network's FLOPs, the FLOP-loss weight and tolerance, the architecture optimiser and the
    Gumbel temperature schedule (cosine from ``tau_max`` to ``tau_min``)."""

    mode: str = "shape"
    flop_ratio: float = 0.5
    flop_weight: float = 2.0
    flop_tolerance: float = 0.05
    arch_LR: float = 1e-3
    arch_betas: list[float] = field(default_factory=lambda: [0.5, 0.999])
    arch_decay: float = 1e-3
    tau_max: float = 5.0
    tau_min: float = 0.1

    def __post_init__(self) -> None:
        if self.mode not in SEARCH_MODES:
            raise ConfigError(f"mode={self.mode!r} is not supported; expected one of {', '.join(SEARCH_MODES)}")
        if not 0 < self.flop_ratio <= 1:
            raise ConfigError(f"flop_ratio must lie in (0, 1] (the share of the unpruned FLOPs to keep), got {self.flop_ratio}")
        if self.flop_weight < 0 or self.flop_tolerance < 0:
            raise ConfigError(f"flop_weight and flop_tolerance must be >= 0, got {self.flop_weight} and {self.flop_tolerance}")
        if self.arch_LR <= 0 or len(self.arch_betas) != 2:
            raise ConfigError(f"arch_LR must be > 0 and arch_betas two numbers, got {self.arch_LR} and {self.arch_betas}")
        if not 0 < self.tau_min <= self.tau_max:
            raise ConfigError(f"need 0 < tau_min <= tau_max, got tau_min={self.tau_min}, tau_max={self.tau_max}")

