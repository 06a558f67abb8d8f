"""A non-editable install (a built wheel in a fresh virtual environment) ships every data file the package reads."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "lib" / "autodl"

CHECK = r"""
import json, sys
import autodl
from autodl.data import cifar10_split, load_test_halves
from autodl.data.digits import load_digits_arrays
from autodl.data.splits import SPLIT_RESOURCES

split = cifar10_split()
halves = {name: [len(part) for part in load_test_halves(name)] for name in SPLIT_RESOURCES if name != "cifar10"}
arrays = load_digits_arrays()
print(json.dumps({"file": autodl.__file__, "prefix": sys.prefix,
                  "cifar10": [len(split.train), len(split.valid)], "halves": halves,
                  "digits": [list(arrays["images"].shape), len(arrays["labels"])]}))
"""


def _data_files() -> list[str]:
    """Every non-Python file in the source package (resources/ folders and anything else it could read)."""
    return sorted(p.relative_to(PACKAGE.parent).as_posix() for p in PACKAGE.rglob("*")
                  if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts)


def _build_wheel(tmp_path: Path) -> Path:
    """Build the wheel offline from a copy of the project (so the checkout gets no build/ folder)."""
    source = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    shutil.copytree(REPO / "lib", source / "lib", ignore=ignore)
    for name in ("pyproject.toml", "setup.py", "README.md", "LICENSE.md"):
        shutil.copy2(REPO / name, source / name)
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                    "-q", "-w", str(dist), str(source)], check=True, cwd=tmp_path)
    wheels = list(dist.glob("autodl-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.mark.slow
def test_wheel_installed_outside_the_checkout_loads_its_data(tmp_path):
    wheel = _build_wheel(tmp_path)
    shipped = set(zipfile.ZipFile(wheel).namelist())
    data_files = _data_files()
    assert any("resources/" in name and name.endswith(".json") for name in data_files)
    assert [name for name in data_files if name not in shipped] == []

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME")}
    env["PIP_NO_INDEX"] = "1"
    # the venv has no pip of its own: the system pip installs into it (--prefix would miss the venv layout)
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q",
                    "--no-index", str(wheel)], check=True, env=env, cwd=tmp_path)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    done = subprocess.run([str(python), "-c", CHECK], env=env, cwd=outside, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    installed = Path(result["file"]).resolve()
    assert installed.is_relative_to(venv.resolve()), installed
    assert not installed.is_relative_to(REPO)
    assert result["cifar10"] == [25000, 25000]
    assert result["halves"] == {"cifar100": [5000, 5000], "ImageNet16-120": [3000, 3000]}
    assert result["digits"] == [[1797, 8, 8], 1797]
