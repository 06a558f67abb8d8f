"""The docs' examples and the cell-drawings notebook write their files into ``output/``, never the current
directory or the repository root (issue 21.8); the notebook is valid nbformat 4.5 (every cell has an id)."""
import json
import re
import subprocess
import sys
from pathlib import Path

from test_docs import BLOCKS, check_block, scratch

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "docs" / "notebooks" / "cell-drawings.ipynb"
WRITES = re.compile(r"\b(draw_\w+|save_\w+|open|write\w*|to_csv|savefig)\(")
CELL_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")  # nbformat 4.5's cell id
RUN_NOTEBOOK = r'''
import json, sys
from IPython.core.interactiveshell import InteractiveShell

shell = InteractiveShell.instance()
for cell in json.load(open(sys.argv[1]))["cells"]:
    if cell["cell_type"] == "code":
        result = shell.run_cell("".join(cell["source"]))
        if not result.success:
            sys.exit(f"cell {cell['id']} failed")
'''


def files_in(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file()}


def test_spaces_examples_write_into_output_only(tmp_path):
    cwd, env = scratch(tmp_path)
    before = files_in(cwd)
    blocks = [block for block in BLOCKS if block.page == "docs/SPACES.md" and block.tag == ""
              and WRITES.search(block.code)]  # the others write nothing (the page's own test runs them all)
    assert len(blocks) >= 3
    for block in blocks:
        check_block(block, cwd, env, tmp_path)
    written = files_in(cwd) - before
    assert {"output/spaces/nb201.svg", "output/spaces/darts_normal.png", "output/spaces/darts_reduce.svg",
            "output/spaces/arch-history.png", "output/spaces/darts-arch.json"} <= written
    assert all(name.startswith("output/") for name in written), sorted(written)


def test_notebook_cells_have_ids_and_draw_into_output(tmp_path):
    notebook = json.loads(NOTEBOOK.read_text())
    assert (notebook["nbformat"], notebook["nbformat_minor"]) >= (4, 5)
    ids = [cell.get("id") for cell in notebook["cells"]]
    assert all(isinstance(i, str) and CELL_ID.fullmatch(i) for i in ids) and len(set(ids)) == len(ids), ids
    script = tmp_path / "run_notebook.py"
    script.write_text(RUN_NOTEBOOK)
    work = tmp_path / "work"
    work.mkdir()
    done = subprocess.run([sys.executable, str(script), str(NOTEBOOK)], cwd=work, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert files_in(work) == {"output/cell-drawings/nb201-cell.svg", "output/cell-drawings/darts-normal.svg"}
