"""beta-DARTS's defining mechanism: the architecture step descends L_val + lambda_e * mean_e logsumexp(alpha_e)
with lambda_e = weight * e / E; with weight 0 a search is DARTS-V1 step for step, and the architecture gradient
is the validation loss's plus the regulariser's, whose gradient is worked out by hand (softmax / edges)."""
import copy
import math

import pytest
import torch
import torch.nn.functional as F

from autodl.algorithms import algorithm_config
from autodl.algorithms.oneshot.beta_darts import beta_decay
from autodl.config import OptimConfig
from autodl.data.search import SearchLoaders
from autodl.errors import ConfigError

from float64_search import float64_loaders, float64_task

OPTIM = OptimConfig(epochs=3, LR=0.05, eta_min=0.001, momentum=0.9, nesterov=True, decay=5e-4)
STEPS = 3


@pytest.fixture(scope="module")
def loaders():
    return float64_loaders(STEPS)


def make_task(name, loaders, **settings):
    return float64_task(name, loaders, OPTIM, **settings)


def test_the_weight_rises_linearly_from_zero():
    """Break seen failing: lambda_e = weight * (e + 1) / E (the weight of the last epoch in the first)."""
    task = make_task("beta-darts", SearchLoaders([], [], []))
    weights = []
    for epoch in range(4):
        task.start_epoch(epoch, 4)
        weights.append(task.regulariser_weight)
    assert weights == [0.0, 12.5, 25.0, 37.5]  # 50 e / 4


def test_the_regulariser_is_the_mean_over_every_edge_of_the_logsumexp():
    """Two tables (the NASNet space's shape), summed row by row by hand."""
    tables = [torch.randn(14, 8, dtype=torch.float64), torch.randn(14, 8, dtype=torch.float64)]
    by_hand = sum(math.log(sum(math.exp(v) for v in row)) for table in tables for row in table.tolist()) / 28
    assert float(beta_decay(tables)) == pytest.approx(by_hand, rel=1e-12)


def test_with_weight_zero_it_is_darts_v1_step_for_step(loaders):
    """Epochs 1 and 2 of 3 (where the default weight is 50/3 and 100/3): bitwise DARTS-V1's parameters after every
    step with weight 0, and the default weight moves alpha elsewhere (the check has teeth).  Breaks seen failing:
    the setting ignored (lambda_e = 50 e / E always); the regulariser left out."""
    reference, zero, default = (make_task("darts-v1", loaders), make_task("beta-darts", loaders, beta_decay_weight=0.0),
                                make_task("beta-darts", loaders))
    for epoch in (1, 2):
        for task in (reference, zero, default):
            task.start_epoch(epoch, 3)
        for k, batch in enumerate(loaders.search):
            for task in (reference, zero, default):
                task.train_step(batch, epoch, k / STEPS)
            want = dict(reference.supernet.named_parameters())
            for name, param in zero.supernet.named_parameters():
                assert torch.equal(param, want[name]), name
            assert not torch.allclose(default.arch_parameters[0], reference.arch_parameters[0], rtol=1e-6)


def test_the_architecture_gradient_adds_the_beta_decay_gradient(loaders):
    """alpha's gradient of one architecture step at epoch 2 of 4 (lambda = 25): dL_val/dalpha on a copy of the
    supernet plus 25 * softmax(alpha) / 6, worked out by hand.  Breaks seen failing: the regulariser left out;
    logsumexp summed over the edges instead of averaged; the softmax-normalised alpha regularised instead."""
    task = make_task("beta-darts", loaders)
    task.start_epoch(2, 4)
    x, y, x_arch, y_arch = next(iter(loaders.search))
    twin = copy.deepcopy(task.supernet)
    alpha = twin.arch_parameters()[0]
    logits = twin(x_arch, weights=[F.softmax(alpha, dim=-1)])[1]
    (valid_gradient,) = torch.autograd.grad(F.cross_entropy(logits, y_arch), alpha)
    by_hand = valid_gradient + 25.0 * F.softmax(alpha.detach(), dim=-1) / 6
    task.arch_step(x_arch, y_arch, task.softmax_weights())
    torch.testing.assert_close(task.arch_parameters[0].grad, by_hand, rtol=1e-10, atol=1e-12)
    assert (by_hand - valid_gradient).abs().max() > 10 * valid_gradient.abs().max()  # the regulariser dominates


def test_a_negative_weight_is_a_one_line_config_error():
    with pytest.raises(ConfigError, match=r"beta_decay_weight must be >= 0"):
        algorithm_config("beta-darts", beta_decay_weight=-1.0)
