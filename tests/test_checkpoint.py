import os

import pytest
import torch

from autodl.engine import load_checkpoint, save_checkpoint
from autodl.engine.seed import get_rng_state, set_rng_state, seed_everything
from autodl.errors import CheckpointError


def test_crash_mid_write_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint" / "last.pth"
    save_checkpoint({"epoch": 1, "weights": torch.ones(3)}, path)
    real_save = torch.save

    def crashing_save(obj, target):
        with open(target, "wb") as handle:
            handle.write(b"half a checkpoint")
        raise KeyboardInterrupt("killed mid-write")

    monkeypatch.setattr(torch, "save", crashing_save)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint({"epoch": 2, "weights": torch.zeros(3)}, path)
    monkeypatch.setattr(torch, "save", real_save)
    state = load_checkpoint(path)
    assert state["epoch"] == 1 and torch.equal(state["weights"], torch.ones(3))
    assert os.listdir(path.parent) == ["last.pth"]  # no temporary file left behind


class NotATensor:
    pass


def test_loading_refuses_code_and_corrupt_files(tmp_path):
    unsafe = tmp_path / "unsafe.pth"
    torch.save({"object": NotATensor()}, unsafe)
    with pytest.raises(CheckpointError, match=r"holds a \S*NotATensor object, not only tensors") as refused:
        load_checkpoint(unsafe)
    corrupt = tmp_path / "corrupt.pth"
    corrupt.write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="cannot load checkpoint .*: it is truncated, corrupt or not a torch file") as bad:
        load_checkpoint(corrupt)
    for error in (refused, bad):  # torch's own advice (weights_only=False) would run the file's code
        assert "weights_only" not in str(error.value) and "\n" not in str(error.value)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.pth")
    with pytest.raises(CheckpointError, match="is a directory; pass a .pth file in it"):
        load_checkpoint(tmp_path)


def test_rng_state_round_trips_through_a_checkpoint(tmp_path):
    import random
    import numpy as np

    seed_everything(3)
    save_checkpoint({"rng": get_rng_state()}, tmp_path / "rng.pth")
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    set_rng_state(load_checkpoint(tmp_path / "rng.pth")["rng"])
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == first
