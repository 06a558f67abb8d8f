"""Every fenced ```bash and ```python block of README.md and docs/**/*.md runs, so that the docs cannot
drift from the code.  The convention (docs/ARCHITECTURE.md, "Runnable docs"):

* ```bash / ```python: runs as written, in a scratch copy of the repository (configs/, exps/, scripts/,
  scripts-search/; the package is the installed one) with an empty ``$TORCH_HOME``, and must succeed
  within seconds.  A page is one test: its blocks share one scratch folder and run in page order, so a
  later block may read what an earlier one wrote.  Nothing is written into the repository.
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
from conftest import DOCS_PAGE_TESTS
from warm_python import run_script, shim_env

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"^```(bash|python)([^\n`]*)\n(.*?)^```[ \t]*$", re.S | re.M)
TAGS = ("", "no-run", "needs-data")
COPIED = ("configs", "exps", "scripts", "scripts-search")
TIMEOUT_S = 120  # a hard stop; runnable blocks are expected to take seconds
LIBRARY_ERROR = re.compile(r"^autodl(\.\w+)+: \S")
ONE_LINE_ERROR = re.compile(r"^([\w.-]+: )?error: \S")  # ours, or argparse's "prog: error: ..."
SEED_NOTICE = re.compile(r"seed -?\d+: drew seed \d+; rerun with seed \d+ to resume this run")


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


def scratch(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A scratch copy of the repository and an environment with an empty TORCH_HOME, for one page."""
    folder = tmp_path / "scratch"
    for name in COPIED:
        shutil.copytree(ROOT / name, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
    torch_home = tmp_path / "torch-home"
    torch_home.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("OUTPUT_DIR", "BENCHMARK", "DRY_RUN")}
    env.update(TORCH_HOME=str(torch_home), OMP_NUM_THREADS="1", MPLBACKEND="Agg")
    return folder, shim_env(env)  # `python SCRIPT.py` in a block starts without importing torch again


def commands(code: str) -> list[str]:
    """The commands of a bash block: continuation lines joined, comments and blank lines left out."""
    joined = re.sub(r"\\\n\s*", " ", code)
    return [line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")]


def run(block: Block, argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"{block.name} did not finish in {TIMEOUT_S} s") from None


def test_every_block_has_a_known_tag():
    assert BLOCKS, "no fenced blocks found"
    unknown = [f"{b.name} '{b.tag}'" for b in BLOCKS if b.tag not in TAGS]
    assert not unknown, f"unknown info strings (expected one of {TAGS}): {unknown}"


def is_slow(block: Block) -> bool:
    """The per-algorithm pages' quick checks (they repeat SEARCH.md's launcher run with their algorithm,
    5-25 s each) and the torchrun examples (10 s each; tests/test_distributed.py and
    tests/test_search_distributed.py run the same paths)."""
    return block.tag == "" and (block.page.startswith("docs/search/") or "torchrun " in block.code)


def page_tests() -> list:
    """One test per page: its blocks share one scratch folder and run in page order (a later block reads
    what an earlier one wrote), so they cannot be separate tests, which test workers may run in other
    processes and ``-k``/``--lf`` may select alone.  The fast test only syntax-checks a page's slow
    blocks; a page with slow blocks also gets a slow test that runs all of them."""
    tests = []
    for page in dict.fromkeys(b.page for b in BLOCKS):
        tests.append(pytest.param(page, False, id=page, marks=pytest.mark.docs_page(page)))
        if any(is_slow(b) for b in BLOCKS if b.page == page):
            tests.append(pytest.param(page, True, id=f"{page}+slow", marks=(pytest.mark.docs_page(page),
                                                                             pytest.mark.slow)))
    return tests


def test_every_page_is_one_test(request):
    """A page's blocks share one scratch folder and run in page order, so each page must be one test (a
    fast one, and a slow one that also runs its slow blocks): blocks of one page in several tests may run
    on different test workers, or alone under ``-k`` and ``--lf``, without what the earlier blocks wrote.
    Checked on every collected test, selected or not (tests/conftest.py records them)."""
    tests = request.config.stash[DOCS_PAGE_TESTS]
    assert tests, "no test carries a docs_page mark"
    split = [f"{page}{' (slow)' if slow else ''}: {len(ids)} tests ({', '.join(ids[:2])}, ...)"
             for (page, slow), ids in tests.items() if len(ids) > 1]
    assert not split, f"a page's blocks must run in one test, in order: {split}"


def syntax_check(block: Block, cwd: Path, env: dict[str, str]) -> None:
    if block.language == "python":
        compile(block.code, block.name, "exec")
    else:
        done = run(block, ["bash", "-n", "-c", block.code], cwd, env)
        assert done.returncode == 0, f"{block.name}: {done.stderr}"


def check_block(block: Block, cwd: Path, env: dict[str, str], tmp_path: Path) -> None:
    if block.tag == "no-run":
        syntax_check(block, cwd, env)
    elif block.language == "bash" and block.tag == "needs-data":
        syntax_check(block, cwd, env)
        command = commands(block.code)[0]
        done = run(block, ["bash", "-c", command], cwd, env)
        # a launcher given seed -1 announces the seed it drew (a notice, not part of the error) before failing
        lines = [line for line in done.stderr.strip().splitlines() if not SEED_NOTICE.fullmatch(line)]
        assert done.returncode == 2 and len(lines) == 1 and ONE_LINE_ERROR.match(lines[0]), (
            f"{block.name}: `{command}` must fail with one 'error: ...' line and exit code 2 without the data; "
            f"got code {done.returncode}:\n{done.stderr[-2000:]}")
    elif block.language == "bash":
        done = run(block, ["bash", "-e", "-o", "pipefail", "-c", block.code], cwd, env)
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


@pytest.mark.parametrize("page, with_slow", page_tests())
def test_doc_page(page, with_slow, tmp_path):
    cwd, env = scratch(tmp_path)
    for block in (b for b in BLOCKS if b.page == page):
        if is_slow(block) and not with_slow:
            syntax_check(block, cwd, env)
        else:
            check_block(block, cwd, env, tmp_path)
