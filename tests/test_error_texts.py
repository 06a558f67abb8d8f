"""A corrupt file's error names what to fetch again and from where (issue 21.8): the archive a CIFAR batch
or a NAS-Bench-201 archive member comes from, the official benchmark file's page; never a bare "download it
again" naming only the broken file, and never PyTorch's own advice to load it with weights_only=False."""
from pathlib import Path

import pytest

from autodl.benchmarks.nb201 import load_bz2_pickle, load_torch_file
from autodl.benchmarks.nb201.common import BenchmarkError
from autodl.data import get_datasets
from autodl.data.fakes import write_fake_cifar10
from autodl.errors import DataError

NB201_PAGE = "https://github.com/D-X-Y/NAS-Bench-201"


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:100])


def test_a_truncated_cifar_batch_names_the_archive_and_its_url(tmp_path):
    write_fake_cifar10(tmp_path, n_train=10, n_test=10)
    truncate(tmp_path / "cifar-10-batches-py" / "data_batch_1")
    with pytest.raises(DataError) as error:
        get_datasets("cifar10", str(tmp_path))
    message = str(error.value)
    assert message.startswith(f"{tmp_path / 'cifar-10-batches-py' / 'data_batch_1'} is not a readable pickle")
    assert message.endswith("download cifar-10-python.tar.gz again from https://www.cs.toronto.edu/~kriz/cifar.html "
                            "and extract it") and "\n" not in message


@pytest.mark.parametrize("name, content, advice", [
    ("NAS-Bench-201-v1_1-096897.pth", b"PK\x03\x04garbage",
     f"download NAS-Bench-201-v1_1-096897.pth again from the NAS-Bench-201 page ({NB201_PAGE})"),
    ("NAS-Bench-201-v1_0-e61699.pth", b"garbage",
     f"download NAS-Bench-201-v1_0-e61699.pth again from the NAS-Bench-201 page ({NB201_PAGE})"),
    ("000003-FULL.pth", b"garbage",
     "extract it again from the NAS-Bench-201 archive (NAS-Bench-201-v1_1-archive.tar from the NAS-Bench-201 page)"),
    ("mine.pth", b"garbage", "re-create it, or download NAS-Bench-201-v1_1-096897.pth from the NAS-Bench-201 page"),
])
def test_a_corrupt_benchmark_file_says_what_to_fetch_again(tmp_path, name, content, advice):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(BenchmarkError) as error:
        load_torch_file(path)
    message = str(error.value)
    assert message.startswith(f"{path} is not a readable torch file") and advice in message, message
    assert "weights_only" not in message and "\n" not in message


def test_a_corrupt_nats_pickle_points_to_its_archive(tmp_path):
    path = tmp_path / "000001.pickle.pbz2"
    path.write_bytes(b"BZh91AY&SYgarbage")
    with pytest.raises(BenchmarkError, match=r"000001\.pickle\.pbz2 is not a readable .*; extract it again from its "
                                             r"NATS-Bench archive \(e\.g\. NATS-tss-v1_0-3ffb9-simple\.tar\)$"):
        load_bz2_pickle(path)
