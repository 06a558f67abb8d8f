"""DistillationLoss against a hand computation of (1 - a) CE + a T^2 KL(teacher || student)."""
import math

import pytest
import torch

from autodl.engine.distill import DistillationLoss
from autodl.errors import ConfigError

STUDENT = [[2.0, 0.5, -1.0], [0.0, 1.0, 3.0]]
TEACHER = [[1.0, 2.0, 0.0], [-1.0, 0.5, 2.5]]
TARGETS = [0, 2]


def softmax(logits, temperature):
    exps = [math.exp(v / temperature) for v in logits]
    total = sum(exps)
    return [e / total for e in exps]


def hand_loss(alpha, temperature):
    ce = sum(-math.log(softmax(s, 1.0)[t]) for s, t in zip(STUDENT, TARGETS)) / len(TARGETS)
    kl = sum(sum(p * math.log(p / q) for p, q in zip(softmax(t, temperature), softmax(s, temperature)))
             for s, t in zip(STUDENT, TEACHER)) / len(TARGETS)
    return (1 - alpha) * ce + alpha * temperature ** 2 * kl


def compute(alpha=0.9, temperature=4.0):
    loss = DistillationLoss(alpha, temperature)
    return loss(torch.tensor(STUDENT, dtype=torch.float64), torch.tensor(TEACHER, dtype=torch.float64),
                torch.tensor(TARGETS))


def test_defaults_match_hand_computation():
    # CE = 0.205578658..., KL at T=4 = 0.020537872... -> 0.1 * CE + 0.9 * 16 * KL
    assert compute().item() == pytest.approx(0.316303223027697, abs=1e-12)
    assert compute().item() == pytest.approx(hand_loss(0.9, 4.0), abs=1e-12)


@pytest.mark.parametrize("alpha,temperature", [(0.0, 4.0), (1.0, 1.0), (0.5, 2.0)])
def test_other_weights(alpha, temperature):
    assert compute(alpha, temperature).item() == pytest.approx(hand_loss(alpha, temperature), abs=1e-12)


def test_identical_logits_leave_only_cross_entropy():
    logits = torch.tensor(STUDENT)
    loss = DistillationLoss()(logits, logits.clone(), torch.tensor(TARGETS))
    expected = 0.1 * torch.nn.functional.cross_entropy(logits, torch.tensor(TARGETS))
    assert loss.item() == pytest.approx(expected.item(), abs=1e-6)


def test_teacher_gets_no_gradient():
    student = torch.tensor(STUDENT, requires_grad=True)
    teacher = torch.tensor(TEACHER, requires_grad=True)
    DistillationLoss()(student, teacher, torch.tensor(TARGETS)).backward()
    assert student.grad is not None and teacher.grad is None


@pytest.mark.parametrize("alpha,temperature", [(1.5, 4.0), (-0.1, 4.0), (0.9, 0.0)])
def test_bad_settings_raise(alpha, temperature):
    with pytest.raises(ConfigError):
        DistillationLoss(alpha, temperature)
