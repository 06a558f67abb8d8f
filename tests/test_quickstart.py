"""The README's first command runs scripts/quickstart.sh: a DARTS-V1 search on the built-in digits data, the
retraining of the found cell and a summary.  Here it runs end to end with fewer epochs."""
import json
import os
import subprocess
from pathlib import Path

from autodl.spaces.artifact import load_artifact
from autodl.spaces.nb201 import Arch

ROOT = Path(__file__).resolve().parents[1]


def test_quickstart_searches_retrains_draws_and_summarizes(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "OMP_NUM_THREADS"}
    env.update(SEARCH_EPOCHS="2", RETRAIN_EPOCHS="1")
    done = subprocess.run(["bash", str(ROOT / "scripts" / "quickstart.sh"), str(tmp_path / "qs")], env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    artifact = load_artifact(tmp_path / "qs" / "search" / "result.json")
    assert artifact.algorithm == "darts-v1" and artifact.dataset == "digits16" and artifact.extra["epochs"] == 2
    cell = str(Arch.from_str(artifact.arch))
    retrain_config = json.loads((tmp_path / "qs" / "retrain" / "config.json").read_text())
    assert retrain_config["model"]["arch_str"] == cell and retrain_config["model"]["C"] == 8
    lines = done.stdout.strip().splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("darts-v1 on digits16 ("))
    assert lines[head].startswith("darts-v1 on digits16 (nas-bench-201 space, seed 1): 2 epochs in ")
    assert lines[head + 1].split() == ["found", "cell", cell]
    assert json.loads((tmp_path / "qs" / "search" / "config.json").read_text())["search"]["arch_LR"] == 3e-3
    assert "retrained        test top-1" in done.stdout and "after 2 epochs" in done.stdout  # 1 + 1 warm-up
    assert (tmp_path / "qs" / "search" / "cell.png").is_file() and (tmp_path / "qs" / "search" / "arch-history.png").is_file()
    for run in ("search", "retrain"):  # one thread by default: a busy second core cannot stall every op
        environment = next(line for line in (tmp_path / "qs" / run / "log.txt").read_text().splitlines()
                           if " environment {" in line)
        assert json.loads(environment[environment.index("{"):])["threads"] == 1
    usage = subprocess.run(["bash", str(ROOT / "scripts" / "quickstart.sh"), "a", "b"], capture_output=True, text=True)
    assert usage.returncode == 2 and "usage: bash" in usage.stderr
