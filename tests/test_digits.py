import torch

from autodl.data import digits_split, get_datasets
from autodl.data.digits import load_digits_arrays


def test_digits_sizes_shapes_and_labels():
    data = get_datasets("digits")
    assert (len(data.train), len(data.test), data.num_classes, data.input_shape) == (1437, 360, 10, (1, 3, 32, 32))
    image, label = data.test[0]
    assert image.shape == (3, 32, 32) and image.dtype == torch.float32 and 0 <= label < 10
    assert sorted({data.test[i][1] for i in range(len(data.test))}) == list(range(10))
    small = get_datasets("digits16")
    assert small.train[0][0].shape == (3, 16, 16) and small.input_shape == (1, 3, 16, 16)


def test_digits_split_is_fixed_and_disjoint():
    arrays = load_digits_arrays()
    assert arrays["images"].shape == (1797, 8, 8) and arrays["images"].max() == 16
    train, valid = digits_split()
    assert (len(train), len(valid)) == (1077, 360) and not set(train) & set(valid)
    assert sorted(train + valid) == list(range(1437))
    test = set(arrays["test_index"].tolist())
    assert not test & set(arrays["train_index"].tolist()) and len(test) == 360


def test_training_augmentation_is_random_and_test_is_not():
    data = get_datasets("digits", cutout=8)
    views, tests = [], []
    for seed in range(4):  # under the same seeds, the training views differ and the test image does not
        torch.manual_seed(seed)
        views.append(data.train[0][0])
        tests.append(data.test[0][0])
    assert any(not torch.equal(views[0], v) for v in views[1:])
    assert all(torch.equal(tests[0], t) for t in tests[1:])
    assert all((v == 0).flatten(1).all(0).sum() >= 1 for v in views)  # cutout zeroed some pixels
