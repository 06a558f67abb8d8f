"""Split golden indices, shipped split files, the class-balanced generator and exps/prepare.py."""
from __future__ import annotations

import json
import runpy
from pathlib import Path

import numpy as np
import pytest

from autodl.data import cifar10_split, class_balanced_split, generate_cifar10_split, load_test_halves
from autodl.errors import DataError

REPO = Path(__file__).resolve().parents[1]


def test_cifar10_split_golden_indices():
    train, valid = generate_cifar10_split()
    assert (len(train), len(valid)) == (25000, 25000)
    assert (train[0], train[10], train[111]) == (0, 26, 203)
    assert (valid[0], valid[10], valid[111]) == (1, 18, 242)
    assert sorted(train + valid) == list(range(50000))


def test_shipped_cifar10_split_equals_the_generator():
    assert tuple(cifar10_split()) == tuple(generate_cifar10_split())


@pytest.mark.parametrize("dataset, size, xvalid_head, xtest_head, xvalid_tail", [
    ("cifar100", 10000, [1, 3, 4, 5, 8, 10], [0, 2, 6, 7, 9, 11], [9989, 9992, 9996, 9997, 9999]),
    ("ImageNet16-120", 6000, [1, 2, 3, 6, 7, 8], [0, 4, 5, 10, 11, 13], [5993, 5994, 5997, 5998, 5999]),
])
def test_shipped_test_halves(dataset, size, xvalid_head, xtest_head, xvalid_tail):
    halves = load_test_halves(dataset)
    assert len(halves.xvalid) == len(halves.xtest) == size // 2
    assert sorted(halves.xvalid + halves.xtest) == list(range(size))
    assert halves.xvalid[:6] == xvalid_head and halves.xtest[:6] == xtest_head and halves.xvalid[-5:] == xvalid_tail


def test_split_files_in_the_original_typed_format(tmp_path):
    path = tmp_path / "cifar100-test-split.txt"
    path.write_text(json.dumps({"xvalid": ["int", ["1", "3"]], "xtest": ["int", ["0", "2"]]}))
    assert tuple(load_test_halves("cifar100", path)) == ([1, 3], [0, 2])
    path.write_text(json.dumps({"xvalid": [1, 2], "xtest": [2, 3]}))
    with pytest.raises(DataError, match="overlap"):
        load_test_halves("cifar100", path)
    path.write_text(json.dumps({"train": [0, 50000], "valid": [1]}))
    with pytest.raises(DataError, match="outside 0..49999"):
        cifar10_split(path)
    with pytest.raises(DataError, match="no test split is shipped for 'cifar10'"):
        load_test_halves("cifar10")


def test_class_balanced_split():
    labels = np.repeat(np.arange(4), [10, 7, 4, 1])
    split = class_balanced_split(labels, 0.5, seed=111)
    assert split["class2numTrain"] == {0: 5, 1: 3, 2: 2, 3: 0}
    assert split["class2numValid"] == {0: 5, 1: 4, 2: 2, 3: 1}
    assert sorted(split["train"] + split["valid"]) == list(range(22))
    assert [int(labels[i]) for i in split["train"]].count(1) == 3
    assert split == class_balanced_split(labels, 0.5, seed=111)
    assert split["train"] != class_balanced_split(labels, 0.5, seed=5)["train"]
    with pytest.raises(DataError, match="strictly between 0 and 1"):
        class_balanced_split(labels, 1.0)


def run_prepare(*args: str) -> int:
    """Run exps/prepare.py in this process (as ``python exps/prepare.py ARGS`` would) and return its exit code."""
    script = runpy.run_path(str(REPO / "exps" / "prepare.py"))
    with pytest.raises(SystemExit) as stopped:
        script["run_main"](script["main"], list(args))
    return stopped.value.code


def test_prepare_script_writes_a_balanced_split(tmp_path, capsys):
    out = tmp_path / "splits" / "digits-0.5.json"
    assert run_prepare("--name", "digits", "--save", str(out), "--ratio", "0.5") == 0
    split = json.loads(out.read_text())
    assert set(split) == {"train", "valid", "class2numTrain", "class2numValid"}
    assert len(split["train"]) + len(split["valid"]) == 1437
    assert sum(split["class2numTrain"].values()) == len(split["train"]) == 716
    assert "716 train / 721 valid images over 10 classes" in capsys.readouterr().out
    assert run_prepare("--name", "cifar10", "--root", str(tmp_path / "none"), "--save", str(out)) == 2
    stderr = capsys.readouterr().err
    assert stderr.startswith("error: cifar10: ") and stderr.count("\n") == 1
