"""The paired search dataset, the search loaders of spec 2.0 and the benchmark settings of spec 4.2, on generated files."""
from __future__ import annotations

import pytest
import torch

from autodl.data import ImageArrayDataset, SearchDataset, get_benchmark_data, get_search_loaders, load_test_halves
from autodl.data.cifar import CIFAR10
from autodl.data.fakes import write_fake_cifar10, write_fake_cifar100, write_fake_imagenet16
from autodl.data.loader import make_loader
from autodl.errors import DataError


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """Fakes large enough for the real splits: 50k CIFAR-10 train, 10k CIFAR-100 test, 6k ImageNet16-120 test."""
    path = tmp_path_factory.mktemp("search-data")
    write_fake_cifar10(path, n_train=50000, n_test=100)
    write_fake_cifar100(path, n_train=500, n_test=10000)
    return path, {"checksums": write_fake_imagenet16(path, n_train=2000, n_test=50000)}


def numbered(n: int) -> ImageArrayDataset:
    """n images whose label is their index."""
    return ImageArrayDataset(torch.zeros(n, 3, 4, 4, dtype=torch.uint8), torch.arange(n))


def test_search_dataset_pairs_a_train_item_with_a_random_valid_item():
    data = SearchDataset(numbered(20), [0, 2, 4, 6], [1, 3, 5])
    assert len(data) == 4
    torch.manual_seed(0)
    seen = set()
    for _ in range(60):
        train_image, train_label, valid_image, valid_label = data[2]
        assert train_label == 4 and train_image.shape == (3, 4, 4) and valid_image.shape == (3, 4, 4)
        seen.add(valid_label)
    assert seen == {1, 3, 5}
    pair = SearchDataset((numbered(5), numbered(3)), [4, 0], [2])
    assert [pair[i][1] for i in range(2)] == [4, 0] and pair[0][3] == 2
    with pytest.raises(DataError, match="share 1 indices"):
        SearchDataset(numbered(5), [0, 1], [1, 2])
    with pytest.raises(DataError, match="non-empty"):
        SearchDataset(numbered(5), [0, 1], [])


def test_ddp_shards_from_equal_generator_states_pair_with_different_valid_items():
    """Every DDP process seeds torch's generator alike; the architecture batches must still differ, or
    averaging the architecture gradients across processes would average equal gradients."""
    data = SearchDataset(numbered(300), list(range(200)), list(range(200, 300)))
    valid_labels = []
    for rank in (0, 1):
        loader = make_loader(data, 16, True, 0, world_size=2, rank=rank, seed=3)
        torch.manual_seed(0)
        train_labels, valid = zip(*[(batch[1], batch[3]) for batch in loader])
        valid_labels.append(torch.cat(valid))
        assert set(torch.cat(train_labels).tolist()) <= set(range(200))
    assert len(valid_labels[0]) == len(valid_labels[1]) == 100
    assert (valid_labels[0] != valid_labels[1]).float().mean() > 0.9


def test_digits_search_loaders():
    loaders = get_search_loaders("digits", batch_size=32, test_batch_size=100, workers=0)
    assert (len(loaders.search.dataset), len(loaders.train.dataset), len(loaders.valid.dataset)) == (1077, 1077, 360)
    train_image, train_label, valid_image, valid_label = next(iter(loaders.search))
    assert train_image.shape == valid_image.shape == (32, 3, 32, 32) and train_label.shape == valid_label.shape == (32,)
    assert len(loaders.valid) == 4


def test_cifar10_search_loaders(root):
    loaders = get_search_loaders("cifar10", root[0], batch_size=64, test_batch_size=512, workers=0)
    assert len(loaders.search.dataset) == len(loaders.train.dataset) == len(loaders.valid.dataset) == 25000
    assert len(loaders.search) == 391 and len(loaders.valid) == 49  # spec 2.0: 391 steps per epoch at batch 64
    batch = next(iter(loaders.search))
    assert [tuple(t.shape) for t in batch] == [(64, 3, 32, 32), (64,), (64, 3, 32, 32), (64,)]
    search = loaders.search.dataset
    assert search.train_data.transform is search.valid_data.transform  # both halves: training augmentation
    valid_image, valid_label = loaders.valid.dataset[0]  # valid[0] = image 1, with the test transform
    mean, std = torch.tensor(CIFAR10.mean).view(3, 1, 1), torch.tensor(CIFAR10.std).view(3, 1, 1)
    expected = (search.train_data.images[1].float() / 255 - mean) / std
    assert torch.allclose(valid_image, expected, atol=1e-5) and valid_label == 1


def test_test_half_search_loaders(root):
    loaders = get_search_loaders("cifar100", root[0], batch_size=50, workers=0)
    assert (len(loaders.search.dataset), len(loaders.train.dataset), len(loaders.valid.dataset)) == (500, 500, 5000)
    halves = load_test_halves("cifar100")
    xvalid = halves.xvalid
    assert loaders.valid.dataset[0][1] == xvalid[0] % 100  # fake test labels are i % 100
    # the architecture half draws from x-valid of the test set (SearchDataset draws only from valid_split,
    # tested above); fake labels are i % 100 and cover every class in either half, so they cannot tell
    search = loaders.search.dataset
    assert search.valid_split == list(xvalid) and not set(search.valid_split) & set(halves.xtest)
    assert len(search.valid_data) == 10000 and len(search.train_data) == 500
    imagenet = get_search_loaders("ImageNet16-120", root[0], batch_size=16, workers=0, **root[1])
    assert (len(imagenet.search.dataset), len(imagenet.valid.dataset)) == (240, 3000)
    assert [tuple(t.shape) for t in next(iter(imagenet.search))] == [(16, 3, 16, 16), (16,), (16, 3, 16, 16), (16,)]
    with pytest.raises(DataError, match="no search split is defined for dataset 'ImageNet16-200'"):
        get_search_loaders("ImageNet16-200", root[0])


@pytest.mark.parametrize("setting, train_size, sizes", [
    ("cifar10-valid", 25000, {"x-valid": 25000, "ori-test": 100}),
    ("cifar10", 50000, {"ori-test": 100}),
    ("cifar100", 500, {"x-valid": 5000, "x-test": 5000, "ori-test": 10000}),
    ("ImageNet16-120", 240, {"x-valid": 3000, "x-test": 3000, "ori-test": 6000}),
    ("digits-valid", 1077, {"x-valid": 360, "ori-test": 360}),
])
def test_benchmark_settings(root, setting, train_size, sizes):
    options = root[1] if setting.startswith("ImageNet16") else {}
    data = get_benchmark_data(setting, root[0], **options)
    assert len(data.train) == train_size
    assert {name: len(subset) for name, subset in data.evaluations.items()} == sizes
    image, _ = data.evaluations["ori-test"][0]
    assert tuple(image.shape) == data.input_shape[1:]


def test_benchmark_settings_reject_bad_input(tmp_path):
    with pytest.raises(DataError, match="unknown benchmark setting 'cifar10-test'; expected one of cifar10-valid"):
        get_benchmark_data("cifar10-test", tmp_path)
    write_fake_cifar100(tmp_path, n_train=10, n_test=200)
    with pytest.raises(DataError, match="indexes image 9999 but the set has only 200 images"):
        get_benchmark_data("cifar100", tmp_path)
