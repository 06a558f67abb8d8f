import math

import pytest
import torch

from autodl.config import OptimConfig
from autodl.engine import LabelSmoothingCrossEntropy, build_criterion, obtain_accuracy


def test_label_smoothing_matches_hand_computation():
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 1.0]])
    targets = torch.tensor([0, 2])
    eps, k = 0.1, 3
    expected = 0.0
    for row, target in zip(logits.tolist(), targets.tolist()):
        log_z = math.log(sum(math.exp(v) for v in row))
        log_p = [v - log_z for v in row]
        weights = [eps / k + (1 - eps if j == target else 0.0) for j in range(k)]
        expected += -sum(w * lp for w, lp in zip(weights, log_p))
    expected /= 2
    assert LabelSmoothingCrossEntropy(eps)(logits, targets).item() == pytest.approx(expected, rel=1e-6)


def test_zero_smoothing_is_cross_entropy_and_criteria_from_config():
    logits, targets = torch.randn(5, 4), torch.tensor([0, 1, 2, 3, 0])
    assert LabelSmoothingCrossEntropy(0.0)(logits, targets).item() == pytest.approx(
        torch.nn.functional.cross_entropy(logits, targets).item(), rel=1e-6)
    smooth = build_criterion(OptimConfig(epochs=1, LR=0.1, criterion="SmoothSoftmax", label_smooth=0.1))
    assert isinstance(smooth, LabelSmoothingCrossEntropy) and smooth.epsilon == 0.1
    assert isinstance(build_criterion(OptimConfig(epochs=1, LR=0.1)), torch.nn.CrossEntropyLoss)


def test_topk_accuracy():
    logits = torch.tensor([[0.1, 0.9, 0.0], [0.8, 0.1, 0.2], [0.2, 0.3, 0.5]])
    targets = torch.tensor([1, 2, 0])
    top1, top2 = obtain_accuracy(logits, targets, (1, 2))
    assert top1 == pytest.approx(100 / 3) and top2 == pytest.approx(200 / 3)
