"""Written files follow the umask: readable by group and others under 022, private under 077.

Every atomic write (checkpoints, config.json, metrics, stores, .pth, drawings, artifacts) goes through a
temporary file that is renamed; the temporary file must get the mode of a new file, not mkstemp's 0600.
"""
from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
import torch

from autodl.benchmarks.nb201 import NASBench201API, convert
from autodl.benchmarks.nb201.merge import save_official
from autodl.benchmarks.nb201.synthetic import make_benchmark, write_synthetic_store
from autodl.config import OptimConfig, write_json
from autodl.engine.checkpoint import save_checkpoint
from autodl.engine.train import train_classifier
from autodl.spaces.artifact import save_artifact
from autodl.utils import atomic_write, atomic_write_text
from autodl.viz import draw_cell

ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"


@pytest.fixture(params=[0o022, 0o077], ids=["umask022", "umask077"])
def umask(request):
    previous = os.umask(request.param)
    yield request.param
    os.umask(previous)


def modes(folder: Path) -> dict[str, int]:
    """The permission bits of every file and folder below ``folder`` (and of ``folder`` itself)."""
    entries = {".": stat.S_IMODE(folder.stat().st_mode)}
    for path in folder.rglob("*"):
        entries[path.relative_to(folder).as_posix() + ("/" if path.is_dir() else "")] = stat.S_IMODE(path.stat().st_mode)
    return entries


def assert_follow_umask(folder: Path, umask: int) -> None:
    found = modes(folder)
    assert len(found) > 1
    for name, mode in found.items():
        is_dir = name == "." or name.endswith("/")
        assert mode == (0o777 if is_dir else 0o666) & ~umask, f"{name} has mode {oct(mode)} under umask {oct(umask)}"
    if umask == 0o022:
        assert all(mode & 0o044 == 0o044 for mode in found.values())  # a colleague can read them
    else:
        assert all(mode & 0o077 == 0 for mode in found.values())  # nobody else can


def test_atomic_writes_get_the_mode_of_a_new_file(tmp_path, umask):
    out = tmp_path / "out"
    atomic_write_text(out / "a.txt", "text\n")
    atomic_write(out / "b.bin", lambda tmp: Path(tmp).write_bytes(b"\x00"))
    save_checkpoint({"w": torch.zeros(2)}, out / "c.pth")
    write_json({"a": 1}, out / "d.json")
    draw_cell(ARCH, out / "e.svg")
    draw_cell(ARCH, out / "f.png")
    save_artifact(out / "g.json", ARCH, algorithm="random", dataset="digits")
    atomic_write_text(out / "a.txt", "replaced\n")  # replacing a file gives it the new file's mode too
    assert_follow_umask(out, umask)
    assert sorted(p.name for p in out.iterdir()) == ["a.txt", "b.bin", "c.pth", "d.json", "e.svg", "f.png", "g.json"]


def test_a_training_run_directory_follows_the_umask(tmp_path, umask):
    run = tmp_path / "run"
    optim = OptimConfig(epochs=1, warmup=0, LR=0.1, momentum=0.9, nesterov=True, decay=5e-4, batch_size=256)
    train_classifier({"name": "small-cnn", "channels": 2}, optim, "digits16", run, seed=1, device="cpu",
                     progress=False, echo=False)
    assert {"config.json", "log.txt", "metrics.jsonl", "checkpoint/", "checkpoint/last.pth"} <= set(modes(run))
    assert_follow_umask(run, umask)


def test_converted_merged_and_synthetic_stores_follow_the_umask(tmp_path, umask):
    benchmark = make_benchmark(3, 4, epochs=(3, 4), seed=0)
    store = convert(benchmark, tmp_path / "converted" / "bench.store")
    save_official(benchmark, tmp_path / "converted" / "bench.pth")
    assert_follow_umask(tmp_path / "converted", umask)
    assert len(NASBench201API(store, verbose=False)) == 4
    synthetic = write_synthetic_store(tmp_path / "synthetic", num_archs=20, epochs=(2, 3))
    assert_follow_umask(synthetic, umask)


def test_concurrent_atomic_writes_do_not_collide(tmp_path):
    errors = []

    def writer(number: int) -> None:
        try:
            for step in range(20):
                atomic_write_text(tmp_path / "shared.txt", f"{number} {step}\n")
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(number,)) for number in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [p.name for p in tmp_path.iterdir()] == ["shared.txt"]
