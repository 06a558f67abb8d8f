"""The one driver of every multi-trial search: budget, evaluator, trial log, replay on resume, workers.

Trials are asked in batches (one per worker), evaluated (by the workers of a back-end, processes or
Ray tasks, for a ``parallel`` evaluator) and told in the order asked, so a search depends only on its seed, never on which worker
finishes first.  Every evaluated trial is appended to ``<save_dir>/trials.jsonl``; a search restarted on
the same directory asks again, takes the logged result of every trial already there instead of
evaluating it, and so continues exactly where it stopped.  A trial whose cost would take the total over
``time_budget`` ends the search without being counted (the original's simulated-time rule).
"""
from __future__ import annotations

import json
import os
import time
from concurrent.futures import Executor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ...errors import CheckpointError, ConfigError
from ...utils import atomic_write_text
from .backends import Backend
from .base import Optimizer, Proposal
from .evaluators import Evaluation, Evaluator
from .space import SearchSpace
from .warmstart import warm_up

TRIALS_FILE = "trials.jsonl"
CONFIG_FILE = "config.json"


@dataclass(slots=True)
class Trial:
    """One evaluated proposal: ``candidate`` a value of the space; ``cost`` charged to the budget;
    ``wall_s`` the real seconds its evaluation took; ``total_cost`` the budget used once it was counted."""

    trial: int
    candidate: Any
    budget: float | None
    score: float
    cost: float
    wall_s: float
    total_cost: float = 0.0


@dataclass
class SearchResult:
    """The outcome: the incumbent (best score among the trials of the highest budget evaluated), all counted
    trials, the budget used and why the search stopped (``budget``, ``max_trials`` or ``exhausted``)."""

    best: Any
    best_score: float
    best_trial: int
    trials: list[Trial]
    total_cost: float
    stopped: str
    incumbents: list[tuple[float, int]] = field(default_factory=list)
    """(total cost, trial number of the incumbent) after every change of incumbent: the anytime curve."""


def trial_record(trial: Trial, space: SearchSpace) -> dict[str, Any]:
    """The JSON form of a trial (a line of ``trials.jsonl``)."""
    return {"trial": trial.trial, "candidate": space.to_json(trial.candidate), "budget": trial.budget,
            "score": trial.score, "cost": trial.cost, "wall_s": trial.wall_s}


def _evaluate_in_worker(evaluator: Evaluator, candidate: Any, budget: float | None, trial: int) -> tuple[Evaluation, float]:
    start = time.perf_counter()
    result = evaluator.evaluate(candidate, budget, trial)
    return result, time.perf_counter() - start


class _TrialLog:
    """``trials.jsonl`` of a run directory (None: in memory only)."""

    def __init__(self, save_dir: str | os.PathLike | None, config: dict[str, Any]) -> None:
        self.path = None if save_dir is None else Path(save_dir) / TRIALS_FILE
        self.records: dict[int, dict[str, Any]] = {}
        if self.path is None:
            return
        folder = self.path.parent
        folder.mkdir(parents=True, exist_ok=True)
        self.records = self._read()
        config = json.loads(json.dumps(config))
        config_path = folder / CONFIG_FILE
        if self.records and config_path.is_file():
            try:
                previous = json.loads(config_path.read_text())
            except (json.JSONDecodeError, UnicodeDecodeError):
                previous = None
            if previous != config:
                changed = sorted(k for k in set(previous or {}) | set(config)
                                 if not isinstance(previous, dict) or previous.get(k) != config.get(k))
                raise CheckpointError(f"{folder} holds a search with different settings (differs in: {', '.join(changed)}); "
                                      "use the same settings to resume or a new --save-dir")
        atomic_write_text(config_path, json.dumps(config, indent=2) + "\n")

    def _read(self) -> dict[int, dict[str, Any]]:
        if not self.path.is_file():
            return {}
        text = self.path.read_text()
        lines = text.splitlines()
        if text and not text.endswith("\n"):  # the last line was cut by a kill: drop it (that trial runs again)
            lines = lines[:-1]
            atomic_write_text(self.path, "".join(line + "\n" for line in lines))
        records = {}
        for number, line in enumerate(lines):
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                record = None
            if not isinstance(record, dict) or not isinstance(record.get("trial"), int):
                raise CheckpointError(f"{self.path} line {number + 1} is not a trial record; "
                                      "remove the run directory or use a new --save-dir")
            records[record["trial"]] = record
        return records

    def append(self, trial: Trial, space: SearchSpace) -> None:
        if self.path is None:
            return
        record = trial_record(trial, space)
        with open(self.path, "a") as handle:
            handle.write(json.dumps(record) + "\n")
            handle.flush()
            os.fsync(handle.fileno())


def run_trials(optimizer: Optimizer, evaluator: Evaluator, *, time_budget: float | None = None,
               max_trials: int | None = None, save_dir: str | os.PathLike | None = None, workers: int = 1,
               backend: Backend = Backend(), config: dict[str, Any] | None = None,
               on_trial: Callable[[Trial], None] | None = None,
               warm_scorer: Callable[[Any], float] | None = None) -> SearchResult:
    """Run a search until ``time_budget`` (summed trial costs) or ``max_trials`` runs out, or the optimiser
    has nothing left to ask.  ``save_dir`` keeps ``trials.jsonl`` and ``config.json`` (``config``: the
    settings that must match on resume); ``workers`` > 1 evaluates a ``parallel`` evaluator's batches that
    many at a time on ``backend`` (local processes by default, or Ray tasks).  ``warm_scorer`` scores the
    candidates of an optimiser's zero-cost warm start first (:func:`~.warmstart.warm_up`; its wall time is
    charged to the budget when the evaluator's costs are wall time)."""
    if time_budget is None and max_trials is None:
        raise ConfigError("a search needs a time budget or a maximum number of trials; give one")
    log = _TrialLog(save_dir, config or {})
    total = warm_up(optimizer, warm_scorer, save_dir, charged=evaluator.real_time)
    if time_budget is not None and total > time_budget:
        raise ConfigError(f"the zero-cost warm start took {total:.1f} s of the {time_budget:g} s budget; raise "
                          "--time-budget or lower --warm-start")
    batch_size = workers if evaluator.parallel else 1
    pool = backend.open(workers) if evaluator.parallel and workers > 1 else None
    trials: list[Trial] = []
    incumbents: list[tuple[float, int]] = []
    best: tuple[float, float, int] | None = None  # (budget level, score, position in trials)
    stopped = None
    try:
        while stopped is None:
            batch: list[Proposal] = []
            while len(batch) < batch_size and (max_trials is None or len(trials) + len(batch) < max_trials):
                proposal = optimizer.ask()
                if proposal is None:
                    break
                batch.append(proposal)
            if not batch:
                stopped = "max_trials" if max_trials is not None and len(trials) >= max_trials else "exhausted"
                break
            first = len(trials)
            done = (_run_batch(batch, first, evaluator, log, pool) if len(batch) > 1 or pool is not None
                    else [_run_one(batch[0], first, evaluator, log)])
            for offset, (proposal, trial) in enumerate(zip(batch, done)):
                if time_budget is not None and total + trial.cost > time_budget:
                    stopped = "budget"
                    break
                total += trial.cost
                trial.total_cost = total
                optimizer.tell(proposal, trial.score)
                trials.append(trial)
                level = -1.0 if proposal.budget is None else proposal.budget
                if best is None or level > best[0] or (level == best[0] and trial.score > best[1]):
                    best = (level, trial.score, first + offset)
                    incumbents.append((total, first + offset))
                if on_trial is not None:
                    on_trial(trial)
    finally:
        if pool is not None:
            pool.shutdown()
    if best is None:
        raise ConfigError("the budget ended before the first trial counted; raise --time-budget")
    winner = trials[best[2]]
    return SearchResult(winner.candidate, winner.score, winner.trial, trials, total, stopped, incumbents)


def _run_batch(batch: list[Proposal], first: int, evaluator: Evaluator, log: _TrialLog,
               pool: Executor | None) -> list[Trial]:
    """The trials of ``batch`` (numbers ``first``...): logged ones replayed, the others evaluated and logged."""
    done = [_replayed(proposal, first + offset, evaluator.space, log) for offset, proposal in enumerate(batch)]
    missing = [offset for offset, trial in enumerate(done) if trial is None]
    if pool is None:
        results = ((i, _evaluate_in_worker(evaluator, batch[i].candidate, batch[i].budget, first + i)) for i in missing)
    else:  # logged as they finish, so a kill loses no finished trial
        futures = {pool.submit(_evaluate_in_worker, evaluator, batch[i].candidate, batch[i].budget, first + i): i
                   for i in missing}
        results = ((futures[future], future.result()) for future in as_completed(futures))
    for offset, (evaluation, wall) in results:
        proposal = batch[offset]
        trial = Trial(first + offset, proposal.candidate, proposal.budget, float(evaluation.score),
                      float(evaluation.cost), wall)
        log.append(trial, evaluator.space)
        done[offset] = trial
    return done  # type: ignore[return-value]


def _replayed(proposal: Proposal, number: int, space: SearchSpace, log: _TrialLog) -> Trial | None:
    """Trial ``number`` from the log (checked against ``proposal``), or None when it was not logged."""
    record = log.records.get(number)
    if record is None:
        return None
    candidate = space.to_json(proposal.candidate)
    if record.get("candidate") != candidate or record.get("budget") != proposal.budget:
        raise CheckpointError(f"{log.path} does not match this search: trial {number} proposes {candidate} "
                              f"(budget {proposal.budget}) but the log has {record.get('candidate')} "
                              f"(budget {record.get('budget')}); resume with the same settings or use a new --save-dir")
    return Trial(number, proposal.candidate, proposal.budget, record["score"], record["cost"], record["wall_s"])


def _run_one(proposal: Proposal, number: int, evaluator: Evaluator, log: _TrialLog) -> Trial:
    """:func:`_run_batch` of one proposal in this process (the hot path of benchmark searches)."""
    trial = _replayed(proposal, number, evaluator.space, log) if log.records else None
    if trial is None:
        start = time.perf_counter()
        evaluation = evaluator.evaluate(proposal.candidate, proposal.budget, number)
        trial = Trial(number, proposal.candidate, proposal.budget, float(evaluation.score), float(evaluation.cost),
                      time.perf_counter() - start)
        log.append(trial, evaluator.space)
    return trial
