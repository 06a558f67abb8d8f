"""``python SCRIPT ARGS...`` without paying for ``import torch`` each time.

A test that only needs what a script prints and its exit code (a docs example, a bad flag, ``--help``)
would spend most of its time importing torch in a fresh interpreter (about 1.7 s of CPU here).
:func:`run_script` sends the command instead to a server process (one per test process) that has
imported torch and autodl once and runs each command in a child forked from it: a fresh process as far
as the script can tell (its own working directory, environment, ``sys.argv``, ``sys.path[0]``,
``__main__``, stdout/stderr and exit code; only torch's and autodl's modules are already imported, as
any of these scripts imports them first), but started in milliseconds.  The server has only imported
modules, never run a tensor operation, so no thread pool exists when it forks.

Kills, resumes and anything that needs a real interpreter start-up (a process that must not see
autodl, torchrun workers) keep using :mod:`subprocess`.
"""
from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

SERVER = r'''
import atexit, json, os, runpy, signal, sys, time, traceback
import torch, autodl.algorithms, autodl.cli, autodl.data, autodl.models  # the expensive imports, once
protocol_out = os.fdopen(os.dup(1), "w")
for line in sys.stdin:
    job = json.loads(line)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.chdir(job["cwd"])
            os.environ.clear()
            os.environ.update(job["env"])
            for fd, path in ((1, job["stdout"]), (2, job["stderr"])):
                os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), fd)
            sys.stdin = open(os.devnull)
            sys.argv = [job["script"], *job["args"]]
            sys.path[0] = os.path.dirname(os.path.abspath(job["script"]))
            runpy.run_path(job["script"], run_name="__main__")
            code = 0
        except SystemExit as exit:
            code = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
            if isinstance(exit.code, str):
                print(exit.code, file=sys.stderr)
        except BaseException:
            traceback.print_exc()
        finally:
            atexit._run_exitfuncs()  # what the interpreter runs on exit, which os._exit skips
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    deadline = time.monotonic() + job["timeout"]
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            code = "timeout"
            break
        time.sleep(0.005)
    protocol_out.write(json.dumps(code) + "\n")
    protocol_out.flush()
'''

_server: subprocess.Popen | None = None


def _get_server() -> subprocess.Popen:
    global _server
    if _server is None or _server.poll() is not None:
        _server = subprocess.Popen([sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   text=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
        atexit.register(_server.kill)
    return _server


def run_script(script: str | os.PathLike, *args: object, cwd: str | os.PathLike | None = None,
               env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Like ``subprocess.run([sys.executable, script, *args], capture_output=True, text=True)``."""
    server = _get_server()
    with tempfile.TemporaryDirectory() as folder:
        out, err = Path(folder) / "stdout", Path(folder) / "stderr"
        job = {"script": str(script), "args": [str(a) for a in args], "cwd": str(cwd or os.getcwd()),
               "env": dict(os.environ if env is None else env), "stdout": str(out), "stderr": str(err),
               "timeout": timeout}
        server.stdin.write(json.dumps(job) + "\n")
        server.stdin.flush()
        reply = server.stdout.readline()
        if not reply:
            raise RuntimeError(f"the warm Python server died (exit code {server.wait()})")
        code = json.loads(reply)
        if code == "timeout":
            raise subprocess.TimeoutExpired([sys.executable, str(script), *map(str, args)], timeout)
        return subprocess.CompletedProcess([sys.executable, str(script), *map(str, args)], code,
                                           out.read_text(errors="replace"), err.read_text(errors="replace"))
