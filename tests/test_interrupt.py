"""Ctrl-C (SIGINT to the whole process group, data-loading workers included) ends a run with one line that
says how to resume, and the run's log.txt records where it stopped."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ctrl_c_is_one_line_saying_how_to_resume_and_logged(tmp_path):
    run = tmp_path / "run"
    command = [sys.executable, ROOT / "exps" / "basic-main.py", "--dataset", "digits16", "--model",
               ROOT / "configs" / "archs" / "CIFAR-SmallCNN.json", "--optim", ROOT / "configs" / "opts" / "digits-E10-W1-COS.json",
               "--epochs", "20", "--warmup", "0", "--batch-size", "16", "--workers", "2", "--seed", "1", "--device", "cpu",
               "--quiet", "--save-dir", run]
    # SIGINT at its default in the child, as in a terminal: a suite started as a background job of a shell without
    # job control (`nohup pytest &` in a script) inherits SIGINT ignored, and Python then never sees Ctrl-C
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while not (run / "metrics.jsonl").is_file():  # the first epoch is checkpointed, the second is under way
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.2)
    time.sleep(0.5)
    os.killpg(process.pid, signal.SIGINT)  # what the terminal sends on Ctrl-C
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    *progress, interrupted = err.splitlines()  # --quiet's progress line per finished epoch, then the one line
    assert interrupted == ("interrupted; a run resumes from its last checkpoint when the same command runs again "
                           "(its log.txt says from which epoch)")
    last = (run / "log.txt").read_text().splitlines()[-1]
    epochs = len((run / "metrics.jsonl").read_text().splitlines())
    assert [line.split("|")[2].split()[0] for line in progress] == [f"{k}/20" for k in range(1, epochs + 1)], err
    assert last.endswith(f"interrupted in epoch {epochs + 1}/20; checkpoint/last.pth holds epochs 1-{epochs}: "
                         "run the same command again to resume from there"), last
