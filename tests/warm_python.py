"""``python SCRIPT.py ARGS...`` without paying for ``import torch`` each time.

A test that only needs what a script prints, writes and returns (a docs example, a bad flag,
``--help``) would spend most of its time importing torch in a fresh interpreter (about 2 s of CPU
here).  Instead, a server process (one per test process) imports torch and autodl once and runs each
command in a child forked from it: a fresh process as far as the script can tell (its own working
directory, environment, ``sys.argv``, ``sys.path[0]``, ``__main__``, stdin/stdout/stderr and exit
code; only torch's and autodl's modules are already imported, as every one of these scripts imports
them first), started in milliseconds.  The server has only imported modules, never run a tensor
operation, so no thread pool exists when it forks.

* :func:`run_script` runs one command from a test, like ``subprocess.run(..., capture_output=True)``.
* :func:`shim_env` returns an environment whose ``python`` (first on ``PATH``) is this file run as a
  script: ``python SCRIPT.py ARGS`` from bash (docs blocks, launchers) goes to the server, and anything
  else (``python -c``, ``python -m``) to the real interpreter.

Kills, resumes and anything that needs a real interpreter start-up (a process that must not see
autodl, torchrun workers) keep using :mod:`subprocess`.
"""
from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

SOCKET_VARIABLE = "AUTODL_TEST_WARM_PYTHON"

SERVER = r'''
import atexit, json, os, runpy, signal, socket, sys, traceback
import torch, autodl.algorithms, autodl.cli, autodl.data, autodl.models  # the expensive imports, once


def run(connection, job, fds):
    code = 1
    try:
        connection.sendall(f"{os.getpid()}\n".encode())
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the script may wait for children of its own
        for fd, target in zip(fds, (0, 1, 2)):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(job["cwd"])
        os.environ.clear()
        os.environ.update(job["env"])
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
        connection.sendall(f"{code}\n".encode())
        os._exit(code)


signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # finished children are reaped by the kernel
listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
listener.bind(sys.argv[1])
listener.listen(16)
print("ready", flush=True)
while True:
    connection, _ = listener.accept()
    data, fds, _, _ = socket.recv_fds(connection, 1 << 16, 3)
    while not data.endswith(b"\n"):
        data += connection.recv(1 << 16)
    if os.fork() == 0:
        listener.close()
        run(connection, json.loads(data), fds)
    connection.close()
    for fd in fds:
        os.close(fd)
'''

_server: tuple[subprocess.Popen, Path] | None = None


def _socket_path() -> Path:
    """The server's socket, started on first use (one server per test process)."""
    global _server
    if _server is None or _server[0].poll() is not None:
        folder = Path(tempfile.mkdtemp(prefix="warm-python-"))
        (folder / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" -S "{Path(__file__).resolve()}" "$@"\n')
        (folder / "python").chmod(0o755)
        server = subprocess.Popen([sys.executable, "-c", SERVER, str(folder / "socket")], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, text=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
        if server.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the warm Python server did not start (exit code {server.wait()})")
        _server = (server, folder / "socket")
        atexit.register(_stop, server, folder)
    return _server[1]


def _stop(server: subprocess.Popen, folder: Path) -> None:
    server.kill()
    server.wait()
    shutil.rmtree(folder, ignore_errors=True)


def _call(path: str | os.PathLike, script: str, args: list[str], cwd: str, env: dict[str, str],
          fds: tuple[int, int, int], timeout: float | None) -> int:
    """Run ``script args`` in a child of the server at ``path`` with ``fds`` as its stdin/stdout/stderr."""
    job = {"script": script, "args": args, "cwd": cwd, "env": env}
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.connect(str(path))
        socket.send_fds(connection, [json.dumps(job).encode() + b"\n"], list(fds))
        connection.settimeout(timeout)
        replies = connection.makefile()
        pid = int(replies.readline())
        try:
            code = replies.readline()
        except TimeoutError:
            os.kill(pid, signal.SIGKILL)
            raise subprocess.TimeoutExpired([script, *args], timeout) from None
    return int(code) if code else -signal.SIGKILL  # no reply: the child was killed before it could answer


def run_script(script: str | os.PathLike, *args: object, cwd: str | os.PathLike | None = None,
               env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Like ``subprocess.run([sys.executable, script, *args], capture_output=True, text=True)``."""
    argv = [str(a) for a in args]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err, open(os.devnull) as stdin:
        code = _call(_socket_path(), str(script), argv, str(cwd or os.getcwd()),
                     dict(os.environ if env is None else env), (stdin.fileno(), out.fileno(), err.fileno()), timeout)
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess([sys.executable, str(script), *argv], code, out.read(), err.read())


def shim_env(env: dict[str, str]) -> dict[str, str]:
    """``env`` with the warm ``python`` first on ``PATH``."""
    path = _socket_path()
    return dict(env, PATH=f"{path.parent}{os.pathsep}{env.get('PATH', '')}", **{SOCKET_VARIABLE: str(path)})


def _shim(argv: list[str]) -> int:
    """``python ARGS`` as the shim: a script goes to the server, anything else to the real interpreter."""
    if not argv or argv[0].startswith("-") or not os.path.isfile(argv[0]):
        os.execv(sys.executable, [sys.executable, *argv])
    return _call(os.environ[SOCKET_VARIABLE], argv[0], argv[1:], os.getcwd(), dict(os.environ), (0, 1, 2), None)


if __name__ == "__main__":
    sys.exit(_shim(sys.argv[1:]))
