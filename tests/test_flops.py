import pytest
import torch
from torch import nn

from autodl.engine import count_flops, count_parameters, get_model_infos
from autodl.models import create_model


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1, bias=False)   # 8x8 output
        self.conv_bias = nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=4)  # 4x4 output, bias
        self.pool = nn.AvgPool2d(2)
        self.bn = nn.BatchNorm2d(8)
        self.fc = nn.Linear(8 * 2 * 2, 5)
        self.auxiliary_head = nn.Linear(8, 3)

    def forward(self, x):
        x = self.pool(self.bn(self.conv_bias(torch.relu(self.conv(x)))))
        return x, self.fc(x.flatten(1))


def test_flops_follow_the_original_counter_by_hand():
    model = Tiny()
    conv = 3 * 3 * 3 * 8 * 8 * 8          # k*k*Cin*Cout per position, 64 positions
    grouped = (3 * 3 * 2 + 1) * 8 * 4 * 4  # Cin/groups = 2, + bias, 16 positions
    linear = (32 + 1) * 5
    assert count_flops(model, (1, 3, 8, 8)) == conv + grouped + linear
    assert count_flops(model, (4, 3, 8, 8)) == conv + grouped + linear  # per image


def test_parameters_exclude_the_auxiliary_head():
    model = Tiny()
    total = sum(p.numel() for p in model.parameters())
    assert count_parameters(model) == total - (8 * 3 + 3)
    flops, params = get_model_infos(model, (1, 3, 8, 8))
    assert params == pytest.approx(count_parameters(model) / 1e6)
    assert model.training  # the counter restores the mode


def test_small_cnn_counts():
    model = create_model({"name": "small-cnn", "channels": 4, "num_classes": 10})
    # convs 3->4 (32x32), 4->8 (16x16), 8->16 (8x8); BN 2 params per channel; linear 16->10
    params = 3 * 9 * 4 + 4 * 9 * 8 + 8 * 9 * 16 + 2 * (4 + 8 + 16) + 16 * 10 + 10
    assert count_parameters(model) == params
    flops = 3 * 9 * 4 * 1024 + 4 * 9 * 8 * 256 + 8 * 9 * 16 * 64 + 16 * 10 + 10
    assert count_flops(model, (1, 3, 32, 32)) == flops
