"""The one training loop.  A :class:`Task` says what a step and an epoch's end do; the
:class:`Trainer` owns epochs, progress, metrics, checkpoints and exact resume.

Classification, knowledge distillation and every weight-sharing search are tasks on this loop.
"""
from __future__ import annotations

import itertools
import math
import sys
import time
from abc import ABC, abstractmethod
from typing import Any, Iterable, Union

import torch
from tqdm import tqdm

from ..errors import CheckpointError
from ..utils import MAX_STEPS_VARIABLE, max_steps_per_epoch
from .checkpoint import load_checkpoint, save_checkpoint
from .distributed import all_reduce_sum
from .rundir import RunDir
from .seed import get_rng_state, set_rng_state


class Task(ABC):
    """What the Trainer trains.

    ``train_step`` returns per-batch **sums** (for example ``loss * n`` and the number of correct
    top-1 predictions times 100) together with ``"n"``, the batch size; the Trainer divides by the
    epoch's total ``n``.  Values may be tensors: they are only synchronised once per epoch.
    """

    train_loader: Iterable

    def start_epoch(self, epoch: int, total_epochs: int) -> None:
        """Called before the first step of ``epoch``."""

    @abstractmethod
    def train_step(self, batch: Any, epoch: int, fraction: float) -> dict[str, Any]:
        """One optimisation step on ``batch`` at ``epoch + fraction``; returns per-batch sums and ``n``."""

    def end_epoch(self, epoch: int, total_epochs: int) -> dict[str, float]:
        """Evaluation or other epoch-end work; returns metrics to record."""
        return {}

    def stop_reason(self) -> str | None:
        """Why training ends before its last epoch (early stopping; part of the task's state), or None."""
        return None

    @abstractmethod
    def state_dict(self) -> dict[str, Any]:
        """Everything a checkpoint must hold to resume exactly (models, optimisers, schedules)."""

    @abstractmethod
    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""


PROGRESS_MODES = ("bar", "lines", "epochs", "off")
PROGRESS_EVERY_S = 30.0
"""Off a terminal, the most seconds between two progress lines within an epoch."""
ECHO_VALUE_CHARS = 120
"""An epoch line on stdout leaves out values longer than this (a NASNet genotype, arch_probs): metrics.jsonl
and log.txt hold them."""
Progress = Union[bool, None, str]


def progress_mode(progress: Progress) -> str:
    """How the Trainer shows progress on stderr: ``"bar"``, a tqdm bar per epoch (True, or None on a terminal);
    ``"lines"`` (None off a terminal: nohup, ``> log 2>&1``), a tqdm-style line after every epoch with the
    elapsed time and ETA, and within an epoch at most one every ``PROGRESS_EVERY_S`` seconds; ``"epochs"``, the
    line after every epoch only (``--quiet``); ``"off"`` (False), nothing."""
    if progress is None:
        return "bar" if sys.stderr.isatty() else "lines"
    if isinstance(progress, bool):
        return "bar" if progress else "off"
    if progress not in PROGRESS_MODES:
        raise ValueError(f"progress={progress!r}; expected None, a bool or one of {', '.join(PROGRESS_MODES)}")
    return progress


def echo_line(record: dict[str, Any]) -> str:
    """``record`` as ``key=value`` pairs, floats to 4 decimals."""
    return " ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in record.items())


def short_record(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` without the values whose text is longer than ``ECHO_VALUE_CHARS`` (what stdout shows)."""
    return {k: v for k, v in record.items() if isinstance(v, float) or len(str(v)) <= ECHO_VALUE_CHARS}


def _steps_text(max_steps: int | None) -> str:
    return "whole epochs" if max_steps is None else f"at most {max_steps} steps per epoch"


def _epoch_sum(values: list[Any]) -> float:
    """Sum of one metric's per-step values, tensors stacked once per epoch (no per-step sync or kernels)."""
    tensors = [v.detach().double() for v in values if isinstance(v, torch.Tensor)]
    total = float(sum(v for v in values if not isinstance(v, torch.Tensor)))
    return total + (float(torch.stack(tensors).sum()) if tensors else 0.0)


class Trainer:
    """Runs ``task`` for ``epochs`` epochs, resuming from ``run``'s last checkpoint when there is one.

    ``progress`` is one of :func:`progress_mode`'s choices.  Every epoch's record goes to ``run``'s log (on
    stdout without its long values, see :func:`short_record`).  ``score_key`` names the metric whose maximum
    selects ``checkpoint/best.pth``.  ``max_steps`` ends every
    epoch after that many steps (a smoke run; default: :func:`max_steps_per_epoch`); the schedule still
    runs its whole course per epoch, and a run resumes only under the cap it was started with.
    """

    def __init__(self, task: Task, epochs: int, run: RunDir | None = None, progress: Progress = None,
                 score_key: str | None = None, max_steps: int | None = None) -> None:
        self.task, self.epochs, self.run = task, epochs, run
        self.max_steps = max_steps_per_epoch() if max_steps is None else max_steps
        self.progress = progress_mode(progress) if run is None or run.is_main else "off"
        self._began, self._start = time.perf_counter(), 0
        self.score_key = score_key
        self.history: list[dict[str, Any]] = []
        self.best = -math.inf

    def _log(self, message: str) -> None:
        if self.run is not None:
            self.run.log(message)

    def _resume(self) -> int:
        if self.run is None or not self.run.last_checkpoint.is_file():
            return 0
        state = load_checkpoint(self.run.last_checkpoint)
        if state.get("max_steps") != self.max_steps:
            raise CheckpointError(f"{self.run.path} was trained with {_steps_text(state.get('max_steps'))}, this run "
                                  f"asks for {_steps_text(self.max_steps)}; resume with the same {MAX_STEPS_VARIABLE} "
                                  "(--max-steps-per-epoch) or use a new run directory")
        self.task.load_state_dict(state["task"])
        set_rng_state(state["rng"])
        self.history, self.best = list(state["history"]), state["best"]
        self.run.write_metrics(self.history)
        self._log(f"resumed from {self.run.last_checkpoint} at epoch {state['epoch']}/{self.epochs}")
        return state["epoch"]

    def _train_epoch(self, epoch: int) -> dict[str, float]:
        loader = self.task.train_loader
        steps = len(loader) if self.max_steps is None else min(len(loader), self.max_steps)
        steps_out: dict[str, list[Any]] = {}
        desc = f"epoch {epoch + 1}/{self.epochs}"
        bar = tqdm(itertools.islice(loader, steps), total=steps, desc=desc, leave=False,
                   disable=self.progress != "bar", dynamic_ncols=True)
        began = shown = time.perf_counter()
        for step, batch in enumerate(bar):  # under a steps cap no batch beyond it is loaded
            for key, value in self.task.train_step(batch, epoch, step / steps).items():
                steps_out.setdefault(key, []).append(value)
            now = time.perf_counter()
            if self.progress == "lines" and now - shown >= PROGRESS_EVERY_S and step + 1 < steps:
                shown = now
                _progress_line(step + 1, steps, now - began, desc, "step")
        keys = sorted(steps_out)
        totals = all_reduce_sum(torch.tensor([_epoch_sum(steps_out[k]) for k in keys], dtype=torch.float64))
        totals = dict(zip(keys, totals.tolist()))
        count = totals.pop("n", 0) or 1
        return {f"train_{key}": value / count for key, value in totals.items()}

    def fit(self) -> list[dict[str, Any]]:
        """Train the remaining epochs; returns the per-epoch metrics history."""
        start = self._resume()
        self._began, self._start = time.perf_counter(), start
        if self.max_steps is not None and start < self.epochs:
            self._log(f"smoke run: every epoch ends after at most {self.max_steps} steps ({MAX_STEPS_VARIABLE})")
        for epoch in range(start, self.epochs):
            reason = self.task.stop_reason()
            if reason is not None:
                self._log(f"stopped early after epoch {epoch}/{self.epochs}: {reason}")
                break
            try:
                self._epoch(epoch)
            except KeyboardInterrupt:
                self._log(f"interrupted in epoch {epoch + 1}/{self.epochs}; " + (
                    f"checkpoint/last.pth holds epochs 1-{epoch}: run the same command again to resume from there"
                    if epoch else "no epoch was finished: the same command starts the run again"))
                raise
        return self.history

    def _epoch(self, epoch: int) -> None:
        """Train, evaluate, record and checkpoint one epoch."""
        began = time.perf_counter()
        self.task.start_epoch(epoch, self.epochs)
        record: dict[str, Any] = {"epoch": epoch}
        record.update(self._train_epoch(epoch))
        record["train_time_s"] = time.perf_counter() - began
        record.update(self.task.end_epoch(epoch, self.epochs))
        record["epoch_time_s"] = time.perf_counter() - began
        self.history.append(record)
        if self.run is not None:
            self._checkpoint(epoch, record)
        if self.run is not None:
            self.run.log(echo_line(record), shown=echo_line(short_record(record)))
        if self.progress in ("lines", "epochs"):
            _progress_line(epoch + 1, self.epochs, time.perf_counter() - self._began, "epochs", "epoch", self._start)

    def _checkpoint(self, epoch: int, record: dict[str, Any]) -> None:
        score = record.get(self.score_key) if self.score_key else None
        improved = score is not None and score > self.best
        if improved:
            self.best = score
        self.run.append_metrics(record)
        if not self.run.is_main:
            return
        task_state = self.task.state_dict()
        state = {"epoch": epoch + 1, "task": task_state, "rng": get_rng_state(),
                 "history": self.history, "best": self.best, "max_steps": self.max_steps}
        save_checkpoint(state, self.run.last_checkpoint)
        if improved:
            save_checkpoint({"epoch": epoch + 1, "task": task_state, "metrics": record},
                            self.run.best_checkpoint)


def _progress_line(done: int, total: int, elapsed: float, prefix: str, unit: str, initial: int = 0) -> None:
    """A tqdm-style line on stderr: percentage, ``done/total``, ``[elapsed<remaining, rate]`` (the rate and the
    remaining time from what this process did: ``initial`` were done before it started)."""
    print(tqdm.format_meter(done, total, elapsed, prefix=prefix, unit=unit, ascii=True, ncols=80, initial=initial),
          file=sys.stderr, flush=True)
