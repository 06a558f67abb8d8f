"""One line per trial of a search whose trials take real time (training, proxies), on a terminal or in a log."""
from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from .driver import Trial
from .space import SearchSpace


def clock(seconds: float) -> str:
    """``seconds`` as ``h:mm:ss`` (``m:ss`` under an hour)."""
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class TrialLines:
    """An ``on_trial`` callback of :func:`~.driver.run_trials` that prints
    ``trial k/N <candidate> score S (best B) elapsed 0:42 ETA 1:10`` for every counted trial.

    ``N`` is ``max_trials`` (``?`` without one).  The ETA is the smaller of the time the remaining trials take
    at the rate so far (with ``max_trials``) and the budget left divided by the ``workers`` that spend it in
    parallel (with a ``time_budget`` of real seconds); a search replayed from its log counts its logged trials
    as instant, so the first ETAs after a resume are low."""

    def __init__(self, space: SearchSpace, max_trials: int | None, time_budget: float | None, workers: int = 1,
                 stream: TextIO | None = None) -> None:
        self.space, self.max_trials, self.time_budget, self.workers = space, max_trials, time_budget, workers
        self.stream = stream or sys.stdout
        self.start = time.perf_counter()
        self.count, self.best = 0, None

    def __call__(self, trial: Trial) -> None:
        self.count += 1
        self.best = trial.score if self.best is None else max(self.best, trial.score)
        elapsed = time.perf_counter() - self.start
        left = []
        if self.max_trials is not None:
            left.append(elapsed / self.count * (self.max_trials - self.count))
        if self.time_budget is not None:
            left.append(max(0.0, self.time_budget - trial.total_cost) / self.workers)
        total = "?" if self.max_trials is None else self.max_trials
        eta = f" ETA {clock(min(left))}" if left else ""
        print(f"trial {self.count}/{total} {self._text(trial.candidate)} score {trial.score:.4g} "
              f"(best {self.best:.4g}) elapsed {clock(elapsed)}{eta}", file=self.stream, flush=True)

    def _text(self, candidate: Any) -> str:
        value = self.space.to_json(candidate)
        return value if isinstance(value, str) else str(value)
