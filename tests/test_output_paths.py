"""Output paths that cannot be written (a file in the way, a directory where a file goes, no permission) are
refused in one line with exit code 2 before anything is written, by every entry point and launcher; so is
bad input that used to be found only after the run directory was written."""
import errno
import json
import os
import subprocess
from pathlib import Path

import pytest

from autodl.cli import run_main
from autodl.errors import OutputPathError
from autodl.utils import atomic_write_text, check_output_path, make_dirs
from warm_python import run_script, shim_env

ROOT = Path(__file__).resolve().parents[1]
EXPS = ROOT / "exps"
MODEL = ROOT / "configs" / "archs" / "CIFAR-SmallCNN.json"
OPTIM = ROOT / "configs" / "opts" / "digits-E10-W1-COS.json"
TRAIN = ["--dataset", "digits16", "--model", MODEL, "--optim", OPTIM, "--epochs", 1, "--quiet"]

# entry point -> its arguments with the directory to write given as OUT (a file to write: OUT/name)
COMMANDS = {
    "basic-main.py": TRAIN + ["--save-dir", "OUT"],
    "KD-main.py": TRAIN + ["--teacher-checkpoint", MODEL, "--save-dir", "OUT"],
    "train-searched.py": ["--dataset", "digits", "--arch", "DARTS_V2", "--C", 2, "--N", 1, "--save-dir", "OUT"],
    "search-cell.py": ["--algo", "darts-v1", "--dataset", "digits16", "--epochs", 1, "--save-dir", "OUT"],
    "search-multitrial.py": ["--algo", "random", "--evaluator", "proxy", "--max-trials", 1, "--save-dir", "OUT"],
    "search-shape.py": ["--dataset", "digits", "--model", ROOT / "configs" / "archs" / "CIFAR-ResNet20.json",
                        "--epochs", 1, "--save-dir", "OUT"],
    "hpo.py": ["--algo", "random", "--space", ROOT / "configs" / "hpo" / "lr-decay.json", "--dataset", "digits16",
               "--model", MODEL, "--optim", OPTIM, "--trials", 1, "--save-dir", "OUT"],
    "hpo-cg.py": ["--iterations", 1, "--save-dir", "OUT"],
    "prepare.py": ["--name", "digits", "--save", "OUT/split.json"],
    "convert-config.py": [ROOT / "configs" / "opts" / "digits-E10-W1-COS.json", "OUT/recipe.json"],
    "report.py": [ROOT, "--output", "OUT/report.md"],
    "NAS-Bench-201/build.py": ["train", "--save-dir", "OUT", "--srange", 0, 0, "--settings", "digits"],
}
LAUNCHERS = {
    "scripts/quickstart.sh": ["OUT"],
    "scripts-search/NAS-Bench-201/digits-demo.sh": ["OUT"],
}


def with_out(args, out):
    return [str(a).replace("OUT", str(out)) if isinstance(a, str) else a for a in args]


def assert_refused(done, *needles):
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    for needle in needles:
        assert needle in done.stderr, done.stderr


def listing(folder):
    return sorted(str(p.relative_to(folder)) for p in Path(folder).rglob("*"))


@pytest.mark.parametrize("script", COMMANDS)
def test_an_output_path_through_a_file_is_one_line_exit_2(script, tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a directory\n")
    before = listing(tmp_path)
    done = run_script(EXPS / script, *with_out(COMMANDS[script], blocker / "run"), cwd=tmp_path)
    assert_refused(done, str(blocker))
    assert listing(tmp_path) == before and blocker.read_text() == "a file, not a directory\n"


@pytest.mark.parametrize("script", [s for s, args in COMMANDS.items() if "OUT" in args])
def test_a_file_given_as_the_run_directory_is_one_line_exit_2(script, tmp_path):
    existing = tmp_path / "existing"
    existing.write_text("keep me\n")
    done = run_script(EXPS / script, *with_out(COMMANDS[script], existing), cwd=tmp_path)
    assert_refused(done, str(existing))
    assert listing(tmp_path) == ["existing"] and existing.read_text() == "keep me\n"


def test_a_directory_given_as_the_file_to_write_is_one_line_exit_2(tmp_path):
    (tmp_path / "report.md").mkdir()
    done = run_script(EXPS / "report.py", ROOT, "--output", tmp_path / "report.md", cwd=tmp_path)
    assert_refused(done, "report.md is a directory; pass the path of a file to write")
    with pytest.raises(OutputPathError, match="is a directory"):
        atomic_write_text(tmp_path / "report.md", "text")
    assert listing(tmp_path) == ["report.md"]


@pytest.mark.parametrize("launcher", LAUNCHERS)
def test_launchers_refuse_an_output_path_through_a_file(launcher, tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    done = subprocess.run(["bash", ROOT / launcher, *with_out(LAUNCHERS[launcher], blocker / "out")], cwd=tmp_path,
                          capture_output=True, text=True, env=shim_env(dict(os.environ)), timeout=300)
    assert_refused(done, str(blocker))
    assert listing(tmp_path) == ["blocker"]


def test_an_unwritable_directory_is_refused_before_anything_is_created(tmp_path, monkeypatch):
    # as root every directory is writable, so the permission check is shown by denying it
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: False if Path(path) == tmp_path else real_access(path, mode))
    with pytest.raises(OutputPathError, match=f"cannot write {tmp_path}/run/deeper: {tmp_path} is not writable"):
        make_dirs(tmp_path / "run" / "deeper")
    with pytest.raises(OutputPathError, match="is not writable"):
        atomic_write_text(tmp_path / "file.json", "{}")
    assert listing(tmp_path) == []
    monkeypatch.setattr(os, "access", real_access)
    assert check_output_path(tmp_path / "run" / "x", directory=False) == tmp_path / "run" / "x"  # writable: passes

    def refused_mkdir(path, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    # what the check cannot foresee (here: mkdir refused) is the same one-line error
    monkeypatch.setattr(Path, "mkdir", refused_mkdir)
    with pytest.raises(OutputPathError, match="cannot create .*run: Permission denied"):
        make_dirs(tmp_path / "run")


def test_the_cli_reports_a_path_error_that_no_check_caught_in_one_line(capsys):
    def main(argv):
        raise PermissionError(errno.EACCES, "Permission denied", "/somewhere/run")

    with pytest.raises(SystemExit) as exit:
        run_main(main, [])
    assert exit.value.code == 2
    assert capsys.readouterr().err == ("error: cannot use /somewhere/run: Permission denied; pass another path, or free "
                                       "space or change permissions there\n")

    def buggy(argv):
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", "/an/internal/file")

    with pytest.raises(FileNotFoundError):  # not a path the user chose: a bug keeps its traceback
        run_main(buggy, [])


def test_kd_alpha_outside_0_1_is_refused_before_the_run_directory(tmp_path):
    done = run_script(EXPS / "KD-main.py", *TRAIN, "--teacher-checkpoint", MODEL, "--kd-alpha", 2,
                      "--save-dir", tmp_path / "run")
    assert_refused(done, "argument --kd-alpha: expected a number in [0, 1], got '2'")
    assert not (tmp_path / "run").exists()


def test_an_auxiliary_head_too_big_for_the_images_is_refused_before_the_run_directory(tmp_path):
    done = run_script(EXPS / "train-searched.py", "--dataset", "digits16", "--arch", "DARTS_V2", "--C", 2, "--N", 1,
                      "--epochs", 1, "--quiet", "--device", "cpu", "--save-dir", tmp_path / "run")
    assert_refused(done, "the auxiliary head got a (4, 4) feature map")
    assert not (tmp_path / "run").exists()


def test_a_multitrial_launcher_without_a_benchmark_writes_nothing(tmp_path):
    env = dict(os.environ, TORCH_HOME=str(tmp_path / "torch"), OUTPUT_DIR=str(tmp_path / "out"))
    env.pop("BENCHMARK", None)
    for seed, variable in (("-1", {}), ("1", {"BENCHMARK": str(tmp_path / "missing.store")})):
        done = subprocess.run(["bash", ROOT / "scripts-search" / "algos" / "R-EA.sh", "cifar10", "3", seed],
                              capture_output=True, text=True, env={**env, **variable}, timeout=60)
        assert_refused(done, "download NAS-Bench-201-v1_1-096897.pth")
        assert ("missing.store does not exist" in done.stderr) == bool(variable), done.stderr
        assert not (tmp_path / "out").exists()
