"""Scripts that the tests start run on the interpreter that runs the tests (tests/conftest.py puts a
``python`` for it first on ``PATH``), also from a virtual environment that is not activated."""
import os
import subprocess
import sys

from warm_python import shim_env

WHICH = 'python -c "import sys; print(sys.executable)"'


def test_python_in_a_launcher_is_the_interpreter_running_the_tests(tmp_path):
    launcher = tmp_path / "launcher.sh"
    launcher.write_text(WHICH + "\n")
    done = subprocess.run(["bash", str(launcher)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == sys.executable, done.stdout + done.stderr


def test_python_in_a_docs_block_is_the_interpreter_running_the_tests():
    done = subprocess.run(["bash", "-c", WHICH], env=shim_env(dict(os.environ)), capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == sys.executable, done.stdout + done.stderr


def test_torchrun_in_a_launcher_starts_its_workers_on_the_interpreter_running_the_tests(tmp_path):
    worker = tmp_path / "worker.py"
    worker.write_text("import sys\nprint(sys.executable)\n")
    done = subprocess.run(["bash", "-c", f"torchrun --standalone --nproc_per_node 1 {worker}"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == sys.executable, done.stdout + done.stderr
