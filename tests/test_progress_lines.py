"""Long runs are never silent off a terminal (issue 21.3, 21.8): under nohup or ``> log 2>&1`` the Trainer
prints a tqdm-style line per epoch with the elapsed time and the ETA on stderr, and within a long epoch a line
at most every PROGRESS_EVERY_S seconds; --quiet keeps the per-epoch line and the result; stdout's epoch lines
leave out the long values (a NASNet search's arch_probs, ~3000 characters), which log.txt keeps."""
import json
import re
from pathlib import Path

import pytest
import torch

from autodl.engine import trainer as trainer_module
from autodl.engine.rundir import RunDir
from autodl.engine.trainer import ECHO_VALUE_CHARS, Task, Trainer, progress_mode
from autodl.spaces.nasnet import get_genotype
from tiny_search import tiny_flags
from warm_python import run_script

ROOT = Path(__file__).resolve().parents[1]
EPOCH_PROGRESS = re.compile(r"^epochs: +\d+%\|[# 0-9]*\| (\d+)/(\d+) \[(\d\d:\d\d)<(\d\d:\d\d), +[0-9.]+(?:s/epoch|epoch/s)\]$")


class Clock:
    def __init__(self):
        self.now = 0.0

    def perf_counter(self):
        return self.now


class TenSecondSteps(Task):
    """Four batches per epoch, each taking ten seconds of ``clock``."""

    def __init__(self, clock):
        self.train_loader, self.clock = [torch.ones(1)] * 4, clock

    def train_step(self, batch, epoch, fraction):
        self.clock.now += 10.0
        return {"n": 1, "loss": 0.5}

    def state_dict(self):
        return {}

    def load_state_dict(self, state):
        pass


def run_clocked(monkeypatch, capsys, progress, every_s=None, epochs=3):
    clock = Clock()
    monkeypatch.setattr(trainer_module, "time", clock)
    if every_s is not None:
        monkeypatch.setattr(trainer_module, "PROGRESS_EVERY_S", every_s)
    Trainer(TenSecondSteps(clock), epochs, progress=progress).fit()
    return capsys.readouterr()


def test_off_a_terminal_every_epoch_prints_its_elapsed_time_and_eta(monkeypatch, capsys):
    assert progress_mode(None) == "lines"  # pytest's stderr is no terminal
    out = run_clocked(monkeypatch, capsys, None, every_s=60.0)  # epochs shorter than the interval
    lines = out.err.splitlines()
    assert out.out == "" and len(lines) == 3, out.err
    matches = [EPOCH_PROGRESS.match(line) for line in lines]
    assert all(matches), lines
    # 40 s per epoch: after epoch 1 of 3, 00:40 elapsed and 01:20 to go
    assert [m.groups() for m in matches] == [("1", "3", "00:40", "01:20"), ("2", "3", "01:20", "00:40"),
                                             ("3", "3", "02:00", "00:00")]


def test_a_long_epoch_prints_a_line_at_most_every_progress_interval(monkeypatch, capsys):
    lines = run_clocked(monkeypatch, capsys, "lines", every_s=25.0, epochs=1).err.splitlines()
    # steps end at 10, 20, 30, 40 s: one line once 25 s have passed (step 3), none for the last step
    assert len(lines) == 2 and lines[0].startswith("epoch 1/1:  75%") and " 3/4 [00:30<00:10," in lines[0], lines
    assert EPOCH_PROGRESS.match(lines[1])


def test_quiet_prints_only_the_epoch_lines_and_false_nothing(monkeypatch, capsys):
    quiet = run_clocked(monkeypatch, capsys, "epochs", every_s=0.0).err.splitlines()
    assert len(quiet) == 3 and all(EPOCH_PROGRESS.match(line) for line in quiet)
    assert run_clocked(monkeypatch, capsys, False, every_s=0.0).err == ""
    with pytest.raises(ValueError, match="expected None, a bool or one of bar, lines, epochs, off"):
        progress_mode("loud")


def test_a_resumed_run_counts_its_eta_from_its_own_epochs(tmp_path, monkeypatch, capsys):
    run = RunDir(tmp_path / "run", echo=False)
    run.prepare({"what": "clocked"})
    clock = Clock()
    monkeypatch.setattr(trainer_module, "time", clock)
    Trainer(TenSecondSteps(clock), 1, run, progress=False).fit()
    clock.now = 1000.0  # the restart: the first process's time does not count
    Trainer(TenSecondSteps(clock), 3, run, progress="epochs").fit()
    lines = capsys.readouterr().err.splitlines()
    assert [EPOCH_PROGRESS.match(line).groups() for line in lines] == [("2", "3", "00:40", "00:40"),
                                                                       ("3", "3", "01:20", "00:00")]


class NASNetLikeRecords(TenSecondSteps):
    """Epoch records as a NASNet search's: a genotype dict and 28 x 8 probabilities beside the numbers."""

    def end_epoch(self, epoch, total_epochs):
        genotype = get_genotype("DARTS_V2").to_dict()
        return {"valid_top1": 12.5, "arch": genotype, "arch_probs": [[[0.125] * 8] * 14] * 2, "note": "short"}


def test_stdout_epoch_lines_leave_out_long_values_and_log_txt_keeps_them(tmp_path, monkeypatch, capsys):
    run = RunDir(tmp_path / "run")
    run.prepare({"what": "nasnet-like"})
    capsys.readouterr()
    Trainer(NASNetLikeRecords(Clock()), 2, run, progress=False).fit()
    shown = capsys.readouterr().out.splitlines()
    assert len(shown) == 2 and all(len(line) < 250 for line in shown), shown
    assert all(" valid_top1=12.5000 " in line and " note=short " in line and "arch" not in line for line in shown)
    logged = [line for line in run.log_path.read_text().splitlines() if "] epoch=" in line]
    assert len(logged) == 2 and all("arch={'normal': [[['sep_conv_3x3', " in line and "arch_probs=[[[0.125" in line
                                    and len(line) > 2000 for line in logged)
    assert [line.split("] ", 1)[1].split(" ")[:2] for line in shown] == [["epoch=0", "train_loss=0.5000"],
                                                                          ["epoch=1", "train_loss=0.5000"]]


@pytest.mark.slow
def test_a_nasnet_search_echoes_short_epoch_lines_and_logs_the_full_ones(tmp_path):
    """A NASNet search's record holds the genotype and 28 x 8 probabilities: stdout leaves them out, log.txt
    and metrics.jsonl keep them; stderr (no terminal) has one progress line per epoch; the result prints as
    one line per cell, not a Genotype(...) repr."""
    save = tmp_path / "run"
    done = run_script(ROOT / "exps" / "search-cell.py", "--algo", "gdas", "--space", "darts", "--dataset", "digits16",
                      "--epochs", 2, *tiny_flags("gdas"), "--batch-size", 16, "--max-steps-per-epoch", 1,
                      "--device", "cpu", "--seed", 1, "--save-dir", save)
    assert done.returncode == 0, done.stderr
    epoch_lines = [line for line in done.stdout.splitlines() if "] epoch=" in line]
    assert len(epoch_lines) == 2
    for line in epoch_lines:
        assert len(line) < 400 and "arch_probs" not in line and "train_top1=" in line, line
        assert all(len(value) <= ECHO_VALUE_CHARS for value in re.findall(r"=(\S+)", line))
    logged = [line for line in (save / "log.txt").read_text().splitlines() if "] epoch=" in line]
    assert len(logged) == 2 and all("arch_probs=[[" in line and len(line) > 2000 for line in logged)
    record = json.loads((save / "metrics.jsonl").read_text().splitlines()[0])
    assert len(record["arch_probs"]) == 2 and len(record["arch_probs"][0]) == 14
    progress = [line for line in done.stderr.splitlines() if EPOCH_PROGRESS.match(line)]
    assert [EPOCH_PROGRESS.match(line).group(1) for line in progress] == ["1", "2"], done.stderr
    assert "Genotype(" not in done.stdout
    tail = done.stdout.splitlines()[-3:]
    assert tail[0] == f"gdas: found -> {save / 'result.json'}"
    assert tail[1].startswith("  normal cell: 0 = ") and tail[2].startswith("  reduce cell: 0 = ")
    assert all(line.endswith("c_{k} = concat(0, 1, 2, 3)") for line in tail[1:])


@pytest.mark.parametrize("script, args", [
    ("basic-main.py", ["--model", ROOT / "configs" / "archs" / "CIFAR-SmallCNN.json"]),
    ("train-searched.py", ["--arch", "|nor_conv_3x3~0|+|skip_connect~0|none~1|+|none~0|none~1|skip_connect~2|",
                           "--C", 2, "--N", 1]),
])
def test_quiet_training_prints_progress_lines_and_its_final_accuracy(tmp_path, script, args):
    save = tmp_path / "run"
    done = run_script(ROOT / "exps" / script, *args, "--dataset", "digits16", "--optim",
                      ROOT / "configs" / "opts" / "digits-E10-W1-COS.json", "--epochs", 1, "--warmup", 0,
                      "--max-steps-per-epoch", 2, "--device", "cpu", "--seed", 1, "--quiet", "--save-dir", save)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in (save / "metrics.jsonl").read_text().splitlines()]
    assert done.stdout == f"finished 1 epochs: test top-1 {records[-1]['test_top1']:.2f}% " \
                          f"(best {records[-1]['test_top1']:.2f}%) -> {save}\n"
    progress = [line for line in done.stderr.splitlines() if EPOCH_PROGRESS.match(line)]
    assert len(progress) == 1 and EPOCH_PROGRESS.match(progress[0]).groups()[:2] == ("1", "1"), done.stderr
