"""Every file-backed loader, end to end on generated files in the official on-disk formats."""
from __future__ import annotations

import io
import os
import pickle
import struct

import numpy as np
import pytest
import torch

from autodl.data import get_datasets
from autodl.data.cifar import CIFAR10, CIFAR100
from autodl.data.fakes import (write_fake_cifar10, write_fake_cifar100, write_fake_imagenet16,
                               write_fake_imagenet_folder)
from autodl.data.imagenet16 import IMAGENET16_MD5, IMAGENET16_MEAN, IMAGENET16_STD
from autodl.data.safe_pickle import UnsafePickleError, safe_load
from autodl.errors import DataError


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """One folder holding fake CIFAR-10, CIFAR-100 and ImageNet16 files; yields (root, ImageNet16 MD5 table)."""
    path = tmp_path_factory.mktemp("data")
    write_fake_cifar10(path, n_train=500, n_test=100)
    write_fake_cifar100(path, n_train=300, n_test=200)
    return path, write_fake_imagenet16(path, n_train=2000, n_test=1000)


def raw_batch(path):
    with open(path, "rb") as handle:
        return pickle.load(handle, encoding="latin1")


def test_fake_cifar10_layout_is_the_official_one(root):
    folder = root[0] / "cifar-10-batches-py"
    assert sorted(os.listdir(folder)) == sorted([f"data_batch_{i}" for i in range(1, 6)] + ["test_batch", "batches.meta"])
    batch = raw_batch(folder / "data_batch_1")
    assert set(batch) == {"batch_label", "labels", "data", "filenames"}
    assert batch["data"].dtype == np.uint8 and batch["data"].shape == (100, 3072)
    assert isinstance(batch["labels"], list) and len(batch["labels"]) == 100
    assert len(raw_batch(folder / "batches.meta")["label_names"]) == 10


@pytest.mark.parametrize("name, layout, n_train, n_test", [("cifar10", CIFAR10, 500, 100), ("cifar100", CIFAR100, 300, 200)])
def test_cifar_loader(root, name, layout, n_train, n_test):
    data = get_datasets(name, root[0])
    assert (len(data.train), len(data.test)) == (n_train, n_test)
    assert data.input_shape == (1, 3, 32, 32) and data.num_classes == layout.num_classes
    assert data.train.images.dtype == torch.uint8 and data.train.images.shape == (n_train, 3, 32, 32)
    assert int(data.train.labels.min()) == 0 and int(data.train.labels.max()) == min(n_train, layout.num_classes) - 1
    image, label = data.train[7]
    assert image.shape == (3, 32, 32) and image.dtype == torch.float32 and label == 7 % layout.num_classes
    # channel-planar rows: the first 1024 values of a row are the red plane
    first_file = layout.train_files[0]
    raw = raw_batch(root[0] / layout.folder / first_file)["data"][7]
    assert torch.equal(data.train.images[7], torch.from_numpy(raw.reshape(3, 32, 32)))
    test_image, _ = data.test[7]
    expected = (torch.from_numpy(data.test.images[7].numpy()).float() / 255 - torch.tensor(layout.mean).view(3, 1, 1)) \
        / torch.tensor(layout.std).view(3, 1, 1)
    assert torch.allclose(test_image, expected, atol=1e-5)


def test_cifar_normalisation_constants_are_the_spec_values():
    assert CIFAR10.mean == tuple(x / 255 for x in (125.3, 123.0, 113.9))
    assert CIFAR10.std == tuple(x / 255 for x in (63.0, 62.1, 66.7))
    assert CIFAR100.mean == tuple(x / 255 for x in (129.3, 124.1, 112.4))
    assert CIFAR100.std == tuple(x / 255 for x in (68.2, 65.4, 70.4))
    assert IMAGENET16_MEAN == tuple(x / 255 for x in (122.68, 116.66, 104.01))
    assert IMAGENET16_STD == tuple(x / 255 for x in (63.22, 61.26, 65.09))


@pytest.mark.parametrize("name, classes, n_train, n_test", [
    ("ImageNet16", 1000, 2000, 1000), ("ImageNet16-120", 120, 240, 120),
    ("ImageNet16-150", 150, 300, 150), ("ImageNet16-200", 200, 400, 200)])
def test_imagenet16_loader_filters_classes(root, name, classes, n_train, n_test):
    # fake labels are i % 1000 + 1, so each kept class appears twice in train and once in test
    data = get_datasets(name, root[0], checksums=root[1])
    assert (len(data.train), len(data.test)) == (n_train, n_test)
    assert data.input_shape == (1, 3, 16, 16) and data.num_classes == classes
    assert data.train.images.shape == (n_train, 3, 16, 16) and data.train.images.dtype == torch.uint8
    assert int(data.train.labels.min()) == 0 and int(data.train.labels.max()) == classes - 1
    assert int(data.test.labels.max()) == classes - 1
    image, label = data.train[5]
    assert image.shape == (3, 16, 16) and label == 5  # image 5 has stored label 6, returned 0-based


def test_imagenet16_root_may_be_the_folder_itself(root):
    data = get_datasets("ImageNet16-120", root[0] / "ImageNet16", checksums=root[1])
    assert len(data.train) == 240


def test_imagenet16_md5_mismatch_is_a_data_error(root):
    # the fake files cannot match the official table
    with pytest.raises(DataError, match=r"train_data_batch_1 has MD5 [0-9a-f]{32}, expected 27846dcaa50de8e21a7d1a35f30f0e91"):
        get_datasets("ImageNet16-120", root[0])
    corrupted = dict(root[1], val_data="0" * 32)
    with pytest.raises(DataError, match="val_data has MD5"):
        get_datasets("ImageNet16-120", root[0], checksums=corrupted)
    assert len(IMAGENET16_MD5) == 11


def test_missing_dataset_errors_name_the_path_and_the_source(tmp_path):
    with pytest.raises(DataError) as cifar_error:
        get_datasets("cifar10", tmp_path)
    message = str(cifar_error.value)
    assert str(tmp_path / "cifar-10-batches-py") in message and "does not exist" in message
    assert "cifar-10-python.tar.gz" in message and "https://www.cs.toronto.edu/~kriz/cifar.html" in message
    with pytest.raises(DataError, match="cifar-100-python does not exist; download cifar-100-python.tar.gz"):
        get_datasets("cifar100", tmp_path)
    with pytest.raises(DataError) as imagenet_error:
        get_datasets("ImageNet16-120", tmp_path)
    assert str(tmp_path / "ImageNet16") in str(imagenet_error.value)
    assert "train_data_batch_1..10 and val_data" in str(imagenet_error.value)
    with pytest.raises(DataError, match="ILSVRC2012"):
        get_datasets("imagenet-1k", tmp_path)


def test_incomplete_dataset_lists_the_missing_files(tmp_path):
    write_fake_cifar10(tmp_path, n_train=10, n_test=5)
    (tmp_path / "cifar-10-batches-py" / "data_batch_3").unlink()
    with pytest.raises(DataError, match="lacks data_batch_3; download"):
        get_datasets("cifar10", tmp_path)
    md5 = write_fake_imagenet16(tmp_path, n_train=20, n_test=10)
    (tmp_path / "ImageNet16" / "val_data").unlink()
    with pytest.raises(DataError, match="ImageNet16 lacks val_data"):
        get_datasets("ImageNet16", tmp_path, checksums=md5)


def test_corrupt_batch_contents_are_data_errors(tmp_path):
    folder = write_fake_cifar10(tmp_path, n_train=10, n_test=5)
    with open(folder / "test_batch", "wb") as handle:
        pickle.dump({"data": np.zeros((5, 100), np.uint8), "labels": [0] * 5}, handle, protocol=2)
    with pytest.raises(DataError, match=r"test_batch holds data of shape \(5, 100\)"):
        get_datasets("cifar10", tmp_path)
    (folder / "test_batch").write_bytes(b"\x80\x02}q\x00(X")  # truncated pickle
    with pytest.raises(DataError, match="not a readable pickle"):
        get_datasets("cifar10", tmp_path)


class Exploit:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_safe_load_refuses_code_and_reads_arrays(tmp_path):
    with pytest.raises(UnsafePickleError, match=r"refers to (posix|nt)\.system"):
        safe_load(io.BytesIO(pickle.dumps({"data": Exploit()})))
    folder = write_fake_cifar10(tmp_path, n_train=10, n_test=5)
    with open(folder / "data_batch_2", "wb") as handle:
        pickle.dump({"data": Exploit(), "labels": [0]}, handle, protocol=2)
    with pytest.raises(UnsafePickleError):
        get_datasets("cifar10", tmp_path)
    for protocol in (2, 4, 5):
        array = np.arange(12, dtype=np.uint8).reshape(3, 4)
        loaded = safe_load(io.BytesIO(pickle.dumps({"data": array, "mean": np.float64(1.5)}, protocol=protocol)))
        assert np.array_equal(loaded["data"], array) and loaded["mean"] == 1.5


def test_safe_load_reads_numpy_1_module_names():
    # files written by NumPy 1.x / Python 2 name numpy.core.multiarray, not numpy._core
    payload = pickle.dumps(np.arange(4, dtype=np.uint8), protocol=2).replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
    assert b"numpy.core.multiarray" in payload
    assert safe_load(io.BytesIO(payload)).tolist() == [0, 1, 2, 3]


def python2_string(data: bytes) -> bytes:
    """A Python 2 ``str`` as cPickle protocol 2 writes it (SHORT_BINSTRING or BINSTRING)."""
    return (b"U" + bytes([len(data)]) if len(data) < 256 else b"T" + struct.pack("<i", len(data))) + data


def python2_batch(images: np.ndarray, labels: list[int]) -> bytes:
    """The bytes Python 2 writes for ``{'data': uint8 array, 'labels': [...]}`` (the official CIFAR layout)."""
    count, row = images.shape
    array = (b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85" + python2_string(b"b") + b"\x87R"
             + b"(K\x01(J" + struct.pack("<i", count) + b"J" + struct.pack("<i", row) + b"t"
             + b"cnumpy\ndtype\n" + python2_string(b"u1") + b"K\x00K\x01\x87R"
             + b"(K\x03" + python2_string(b"|") + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
             + b"\x89" + python2_string(images.tobytes()) + b"tb")
    label_list = b"](" + b"".join(b"K" + bytes([label]) for label in labels) + b"e"
    return b"\x80\x02}(" + python2_string(b"data") + array + python2_string(b"labels") + label_list + b"u."


def test_python2_pickles_as_in_the_official_files(tmp_path):
    folder = write_fake_cifar10(tmp_path, n_train=10, n_test=5)
    images = np.random.default_rng(1).integers(0, 256, (5, 3072), dtype=np.uint8)
    (folder / "test_batch").write_bytes(python2_batch(images, [9, 8, 7, 6, 5]))
    test = get_datasets("cifar10", tmp_path).test
    assert test.labels.tolist() == [9, 8, 7, 6, 5]
    assert torch.equal(test.images, torch.from_numpy(images.reshape(5, 3, 32, 32)))


@pytest.mark.parametrize("name", ["imagenet-1k", "imagenet-1k-s"])
def test_imagenet_folder_loader(tmp_path, name):
    write_fake_imagenet_folder(tmp_path, num_classes=3, per_class=2, size=64)
    torch.manual_seed(0)
    data = get_datasets(name, tmp_path)
    assert (len(data.train), len(data.test), data.num_classes, data.input_shape) == (6, 6, 3, (1, 3, 224, 224))
    image, label = data.train[3]
    assert image.shape == (3, 224, 224) and image.dtype == torch.float32 and label == 1
    test_image, test_label = data.test[5]
    assert test_image.shape == (3, 224, 224) and test_label == 2
