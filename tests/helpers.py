"""Shared test helpers: a free TCP port for ``torchrun``, and killing an entry point with SIGKILL to test
that it resumes exactly.

Every entry point whose training runs on :class:`autodl.engine.trainer.Trainer` echoes its run log on
stdout (unless ``--quiet``): ``epoch=K ...`` right after the checkpoint of epoch K is written, and
``resumed from <checkpoint> at epoch K/E`` when a restarted process picks a checkpoint up.
:func:`kill_and_resume` watches those lines to kill at a chosen point, then checks from them (and from
the run directory) that the restarted process did not redo an epoch and ends where an uninterrupted run
ends.  A restart that trains from scratch, or one that restores the weights but not an optimiser, a
generator or a schedule, fails it.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from autodl.engine.checkpoint import load_checkpoint

EPOCH_LINE = re.compile(r"^\[[-0-9: ]+\] epoch=(\d+) (.*)$")
RESUME_LINE = re.compile(r"^\[[-0-9: ]+\] resumed from (\S+) at epoch (\d+)/(\d+)$")
EPOCH_TIME = re.compile(r"\bepoch_time_s=([0-9.]+)")
TIMES = re.compile(r" [\w-]*time_s=[0-9.]+")


def free_port() -> int:
    """A TCP port nobody listens on now, for ``torchrun --master_port`` (two test runs never collide)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Kill:
    """Where to SIGKILL one process: once it has printed ``epochs`` epoch lines (so the checkpoint of its
    ``epochs``-th epoch is on disk) or, with ``epochs=0``, once it printed its resume line; with
    ``mid_epoch`` a quarter of an epoch later (of the shortest epoch seen so far), so that the process
    dies inside the next epoch.

    Under load the next epoch can be four times shorter than the one measured (the load fell meanwhile),
    and the kill lands after the next checkpoint.  Such a try does not count: the output folder is put
    back as the process found it, and the process is started again and killed after a four times shorter
    wait (at most ``KILL_TRIES`` tries)."""

    epochs: int
    mid_epoch: bool = False


KILL_TRIES = 3


@dataclass
class Segment:
    """The stdout lines of one process of the killed-and-restarted sequence."""

    lines: list[str]

    def epoch_lines(self) -> list[str]:
        """The epoch lines without their timestamps and measured times (which differ between runs)."""
        return [TIMES.sub("", match.group(0).split("] ", 1)[1]) for match in map(EPOCH_LINE.match, self.lines)
                if match]

    def resumes(self) -> list[tuple[int, int]]:
        return [(int(m.group(2)), int(m.group(3))) for m in map(RESUME_LINE.match, self.lines) if m]


def _read_lines(path: Path) -> list[str]:
    return path.read_text(errors="replace").splitlines() if path.is_file() else []


def _epoch_seconds(lines: list[str]) -> list[float]:
    return [float(m.group(1)) for line in lines if EPOCH_LINE.match(line) for m in [EPOCH_TIME.search(line)] if m]


def _run_until(command: Sequence[str], out: Path, env: dict[str, str], kill: Kill, epoch_s: float,
               fraction: float, timeout: float) -> tuple[Segment, bool]:
    """Start ``command`` and SIGKILL it at ``kill``; a mid-epoch kill waits ``fraction`` of the shortest
    epoch this process printed (else of ``epoch_s``, an earlier process's epoch) after the kill point.
    Returns its output and whether the kill ended it (False: it had finished before)."""
    with open(out, "w") as stdout, open(out.with_suffix(".err"), "w") as stderr:
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, env=env)
    deadline = time.monotonic() + timeout
    while True:
        ended = process.poll() is not None  # polled before reading, so that an ended process's output is complete
        lines = _read_lines(out)
        segment = Segment(lines)
        if len(segment.epoch_lines()) >= kill.epochs if kill.epochs else segment.resumes():
            break
        assert not ended, (
            f"{command} ended (code {process.returncode}) before the kill point {kill}"
            + (" without printing a 'resumed from' line: it did not resume" if not kill.epochs else "")
            + f":\n{out.with_suffix('.err').read_text()[-3000:]}")
        assert time.monotonic() < deadline, f"{command} did not reach the kill point {kill} in {timeout} s"
        time.sleep(0.01)
    if kill.mid_epoch:  # the shortest epoch: the first one also pays for warming up
        time.sleep(fraction * min(_epoch_seconds(lines) or [epoch_s]))
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode in (0, -signal.SIGKILL), (
        f"{command} failed (code {process.returncode}) before the kill:\n{out.with_suffix('.err').read_text()[-3000:]}")
    return Segment(_read_lines(out)), process.returncode == -signal.SIGKILL


def _kill_at(command: Sequence[str], save_dir: Path, out: Path, env: dict[str, str], kill: Kill, epoch_s: float,
             timeout: float) -> Segment:
    """Run ``command``, which writes into ``save_dir``, and SIGKILL it at ``kill``; a try whose kill landed
    late (the process printed the next epoch's line, or finished) is undone and repeated with a four times
    shorter wait."""
    before = out.with_name(out.name + ".save-dir")  # the output folder as the process found it
    if save_dir.exists():
        shutil.copytree(save_dir, before, symlinks=True)
    printed = []
    for attempt in range(KILL_TRIES):
        segment, killed = _run_until(command, out, env, kill, epoch_s, 0.25 ** (attempt + 1), timeout)
        printed.append(len(segment.epoch_lines()))
        if killed and printed[-1] == kill.epochs:
            return segment
        shutil.rmtree(save_dir)
        if before.exists():
            shutil.copytree(before, save_dir, symlinks=True)
    raise AssertionError(f"the kill {kill} landed late in all {KILL_TRIES} tries: the processes had printed {printed} "
                         "epoch lines")


def assert_same_state(first: Any, second: Any, where: str = "checkpoint") -> None:
    """Exact equality of two nested checkpoint structures (tensors bitwise)."""
    if isinstance(first, torch.Tensor):
        assert isinstance(second, torch.Tensor) and torch.equal(first, second), f"{where} differs"
    elif isinstance(first, dict):
        assert isinstance(second, dict) and first.keys() == second.keys(), f"{where}: keys differ"
        for key in first:
            assert_same_state(first[key], second[key], f"{where}[{key!r}]")
    elif isinstance(first, (list, tuple)):
        assert isinstance(second, (list, tuple)) and len(first) == len(second), f"{where}: lengths differ"
        for index, (a, b) in enumerate(zip(first, second)):
            assert_same_state(a, b, f"{where}[{index}]")
    else:
        assert first == second, f"{where}: {first!r} != {second!r}"


def without_times(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in record.items() if not k.endswith("time_s")} for record in records]


def read_metrics(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def _first_difference(got: list[str], expected: list[str]) -> str:
    for index, (a, b) in enumerate(zip(got, expected)):
        if a != b:
            return f"line {index}: {a}\n  instead of {b}"
    return f"{len(got)} epoch lines instead of {len(expected)}"


def kill_and_resume(command: Callable[[Path], Sequence[str]], tmp_path: Path, kills: Sequence[Kill], *,
                    run_dir: str | None = ".", timeout: float = 600) -> tuple[Path, Path]:
    """Run ``command(out_dir)`` uninterrupted into ``tmp_path/full`` and, at the same time, into
    ``tmp_path/killed``: killed with SIGKILL at each of ``kills`` in turn (one process per kill), then
    restarted once more to finish.  Returns ``(full, killed)`` for the caller to compare artifacts.

    Asserts that every restarted process printed a resume line at the epoch its checkpoint held and
    then only the epochs after it: the epoch lines of all processes together, measured times aside,
    are exactly the uninterrupted run's (an epoch trained twice or differently fails).  When the
    Trainer's run directory survives the run (``run_dir``, relative to the output folder; None for an
    entry point that removes it), its ``metrics.jsonl`` and the task state in ``checkpoint/last.pth``
    must equal the uninterrupted run's exactly.
    """
    env = dict(os.environ, OMP_NUM_THREADS="1")
    full_dir, killed_dir = tmp_path / "full", tmp_path / "killed"
    full_out = tmp_path / "full.out"
    with open(full_out, "w") as stdout, open(tmp_path / "full.err", "w") as stderr:
        full = subprocess.Popen(list(command(full_dir)), stdout=stdout, stderr=stderr, env=env)
    try:
        segments, epoch_s = [], 0.0
        for number, kill in enumerate(kills):
            segment = _kill_at(list(command(killed_dir)), killed_dir, tmp_path / f"killed-{number}.out", env, kill,
                               epoch_s, timeout)
            epoch_s = min(_epoch_seconds(segment.lines) or [epoch_s])
            segments.append(segment)
        last_out = tmp_path / f"killed-{len(kills)}.out"
        with open(last_out, "w") as stdout, open(last_out.with_suffix(".err"), "w") as stderr:
            finished = subprocess.run(list(command(killed_dir)), stdout=stdout, stderr=stderr, env=env,
                                      timeout=timeout)
        assert finished.returncode == 0, last_out.with_suffix(".err").read_text()[-3000:]
        segments.append(Segment(_read_lines(last_out)))
        assert full.wait(timeout=timeout) == 0, (tmp_path / "full.err").read_text()[-3000:]
    finally:
        if full.poll() is None:
            full.kill()
            full.wait()

    for number, after in enumerate(segments[1:], start=1):
        resumes = after.resumes()
        assert len(resumes) == 1, f"a restarted process must resume once from its checkpoint, got {resumes}"
        resumed_at, _ = resumes[0]
        following = after.epoch_lines()
        if following:  # the first epoch after the resume line is the one the checkpoint left off at
            assert following[0].startswith(f"epoch={resumed_at} "), (resumed_at, following[0])
        if run_dir is not None:  # one Trainer: it resumes after every epoch printed before
            done = sum(len(s.epoch_lines()) for s in segments[:number])
            assert resumed_at == done, f"resumed at epoch {resumed_at} after {done} finished epochs"
    reference = Segment(_read_lines(full_out)).epoch_lines()
    assert reference, f"the uninterrupted run printed no epoch lines: {command(full_dir)}"
    resumed = [line for s in segments for line in s.epoch_lines()]
    assert resumed == reference, "the killed and restarted processes trained other epochs than the " \
        f"uninterrupted run; first difference:\n{_first_difference(resumed, reference)}"
    if run_dir is not None:
        first, second = full_dir / run_dir, killed_dir / run_dir
        assert [r["epoch"] for r in read_metrics(second)] == list(range(len(reference)))
        assert without_times(read_metrics(second)) == without_times(read_metrics(first)), "metrics.jsonl differs"
        checkpoints = [load_checkpoint(d / "checkpoint" / "last.pth") for d in (first, second)]
        assert checkpoints[0]["epoch"] == checkpoints[1]["epoch"] == len(reference)
        assert_same_state(checkpoints[0]["task"], checkpoints[1]["task"], "checkpoint task state")
    return full_dir, killed_dir
