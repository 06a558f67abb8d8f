"""Every fenced ```bash and ```python block of README.md and docs/**/*.md runs, so that the docs cannot
drift from the code.  The convention (docs/ARCHITECTURE.md, "Runnable docs"):

* ```bash / ```python: runs as written, in a scratch copy of the repository (configs/, exps/, scripts/,
  scripts-search/; the package is the installed one) with an empty ``$TORCH_HOME``, and must succeed
  within seconds.  The blocks of one page share their scratch folder and run in page order, so a later
  block may read what an earlier one wrote.  Nothing is written into the repository.
* ```bash no-run / ```python no-run: long jobs and GPU commands; only syntax-checked (``bash -n``,
  ``compile``).
* ```bash needs-data / ```python needs-data: commands that need CIFAR, ImageNet, the official benchmark
  file or a file of the reader's.  They run against the empty ``$TORCH_HOME`` and must fail fast with one
  clear line: a bash block's first command exits with code 2 and prints exactly one ``error: ...`` line
  on stderr (its other commands, usually the same launcher on other datasets, are syntax-checked: each
  costs a process start); a Python block ends with one of the library's errors (the traceback's last
  line is ``autodl....Error: ...``).

``python SCRIPT.py ...`` (in a Python block, a bash block or a launcher it calls) runs in a child forked
from an interpreter that imported torch once (tests/warm_python.py); other ``python`` calls run as usual.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from warm_python import run_script, shim_env

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"^```(bash|python)([^\n`]*)\n(.*?)^```[ \t]*$", re.S | re.M)
TAGS = ("", "no-run", "needs-data")
COPIED = ("configs", "exps", "scripts", "scripts-search")
TIMEOUT_S = 120  # a hard stop; runnable blocks are expected to take seconds
LIBRARY_ERROR = re.compile(r"^autodl(\.\w+)+: \S")
ONE_LINE_ERROR = re.compile(r"^([\w.-]+: )?error: \S")  # ours, or argparse's "prog: error: ..."


@dataclass(frozen=True)
class Block:
    page: str
    line: int
    language: str
    tag: str
    code: str

    @property
    def name(self) -> str:
        return f"{self.page}:{self.line}"


def find_blocks() -> list[Block]:
    found = []
    for page in PAGES:
        text = page.read_text()
        for match in FENCE.finditer(text):
            found.append(Block(page.relative_to(ROOT).as_posix(), text.count("\n", 0, match.start()) + 1,
                               match.group(1), match.group(2).strip(), match.group(3)))
    return found


BLOCKS = find_blocks()


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """One scratch copy of the repository per page, and an empty TORCH_HOME."""
    folders: dict[str, Path] = {}
    torch_home = tmp_path_factory.mktemp("torch-home")
    env = {k: v for k, v in os.environ.items() if k not in ("OUTPUT_DIR", "BENCHMARK", "DRY_RUN")}
    env.update(TORCH_HOME=str(torch_home), OMP_NUM_THREADS="1", MPLBACKEND="Agg")

    def folder(page: str) -> Path:
        if page not in folders:
            folders[page] = tmp_path_factory.mktemp("docs-" + re.sub(r"\W", "-", page))
            for name in COPIED:
                shutil.copytree(ROOT / name, folders[page] / name, ignore=shutil.ignore_patterns("__pycache__"))
        return folders[page]

    return folder, shim_env(env)  # `python SCRIPT.py` in a block starts without importing torch again


def commands(code: str) -> list[str]:
    """The commands of a bash block: continuation lines joined, comments and blank lines left out."""
    joined = re.sub(r"\\\n\s*", " ", code)
    return [line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")]


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)


def test_every_block_has_a_known_tag():
    assert BLOCKS, "no fenced blocks found"
    unknown = [f"{b.name} '{b.tag}'" for b in BLOCKS if b.tag not in TAGS]
    assert not unknown, f"unknown info strings (expected one of {TAGS}): {unknown}"


def marks(block: Block) -> tuple:
    """Slow: the per-algorithm pages' quick checks (they repeat SEARCH.md's launcher run with their
    algorithm, 5-25 s each) and the torchrun examples (10 s each; tests/test_distributed.py and
    tests/test_search_distributed.py run the same paths).  Everything else runs in the fast suite.  The
blocks of a page run on one test worker (``--dist loadgroup``)."""
    runs = block.tag == ""
    slow = runs and (block.page.startswith("docs/search/") or "torchrun " in block.code)
    same_worker = pytest.mark.xdist_group(block.page)  # a page's blocks share its scratch folder, in order
    return (same_worker, pytest.mark.slow) if slow else (same_worker,)


@pytest.mark.parametrize("block", [pytest.param(b, marks=marks(b), id=b.name) for b in BLOCKS])
def test_doc_block(block, scratch, tmp_path):
    folder, env = scratch
    cwd = folder(block.page)
    if block.tag == "no-run":
        if block.language == "python":
            compile(block.code, block.name, "exec")
        else:
            done = run(["bash", "-n", "-c", block.code], cwd, env)
            assert done.returncode == 0, done.stderr
    elif block.language == "bash" and block.tag == "needs-data":
        syntax = run(["bash", "-n", "-c", block.code], cwd, env)
        assert syntax.returncode == 0, syntax.stderr
        command = commands(block.code)[0]
        done = run(["bash", "-c", command], cwd, env)
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 2 and len(lines) == 1 and ONE_LINE_ERROR.match(lines[0]), (
            f"{block.name}: `{command}` must fail with one 'error: ...' line and exit code 2 without the data; "
            f"got code {done.returncode}:\n{done.stderr[-2000:]}")
    elif block.language == "bash":
        done = run(["bash", "-e", "-o", "pipefail", "-c", block.code], cwd, env)
        assert done.returncode == 0, f"{block.name} failed:\n{done.stdout[-1500:]}\n{done.stderr[-3000:]}"
    else:
        script = tmp_path / f"block-{block.line}.py"
        script.write_text(block.code)
        done = run_script(script, cwd=cwd, env=env, timeout=TIMEOUT_S)
        if block.tag == "needs-data":
            last = done.stderr.strip().splitlines()[-1:] or [""]
            assert done.returncode != 0 and LIBRARY_ERROR.match(last[0]), (
                f"{block.name} must end with one of the library's errors without the data:\n{done.stderr[-2000:]}")
        else:
            assert done.returncode == 0, f"{block.name} failed:\n{done.stdout[-1500:]}\n{done.stderr[-3000:]}"
