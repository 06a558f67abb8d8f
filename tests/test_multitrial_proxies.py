"""Zero-cost proxies on tiny networks whose scores can be worked out by hand, the rank correlations, and the
proxy evaluator on NB201 cells."""
import math

import numpy as np
import pytest
import torch
from torch import nn

from autodl.algorithms.multitrial import create_optimizer, run_trials
from autodl.algorithms.multitrial.proxies import (PROXIES, ProxyEvaluator, fixed_batch, grad_norm, jacob_cov, naswot,
                                                  proxy_correlations, snip, synflow)
from autodl.algorithms.multitrial.ranks import average_ranks, kendall, spearman
from autodl.algorithms.multitrial.settings import PROXY_NAMES
from autodl.errors import ConfigError
from autodl.spaces.nb201 import Arch


def two_layer(first, second):
    model = nn.Sequential(nn.Linear(2, 2, bias=False), nn.ReLU(), nn.Linear(2, 2, bias=False))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor(first))
        model[2].weight.copy_(torch.tensor(second))
    return model


def test_naswot_is_the_log_determinant_of_the_activation_agreement_kernel():
    model = two_layer([[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]])
    inputs = torch.tensor([[1.0, 1.0], [1.0, -1.0], [-1.0, -1.0]])
    # ReLU codes: (1, 1), (1, 0), (0, 0); K[i, j] = units on which i and j agree = [[2, 1, 0], [1, 2, 1], [0, 1, 2]]
    assert naswot(model, inputs) == pytest.approx(math.log(4.0))  # det = 2 * 3 - 1 * 2 = 4


def test_synflow_of_a_linear_relu_network_is_twice_its_all_ones_output():
    first, second = [[1.0, -2.0], [0.5, 3.0]], [[-1.0, 1.0], [2.0, 0.5]]
    # with |W|: hidden = |W1| 1 = (3, 3.5); R = 1^T |W2| hidden = 1*3 + 1*3.5 + 2*3 + 0.5*3.5 = 14.25;
    # sum |W2 * dR/dW2| = sum |W2| * hidden = R, and sum |W1 * dR/dW1| = R as well
    assert synflow(two_layer(first, second), torch.randn(5, 2)) == pytest.approx(2 * 14.25)


def test_snip_and_grad_norm_of_one_linear_layer_follow_the_softmax_gradient():
    weight = np.array([[1.0, -1.0], [0.5, 2.0]])
    model = nn.Sequential(nn.Linear(2, 2, bias=False))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor(weight))
    x, label = np.array([2.0, 1.0]), 0
    logits = weight @ x  # (1, 3)
    p = np.exp(logits) / np.exp(logits).sum()
    gradient = np.outer(p - np.eye(2)[label], x)  # d cross-entropy / dW
    inputs, targets = torch.tensor(x[None], dtype=torch.float32), torch.tensor([label])
    assert snip(model, inputs, targets) == pytest.approx(np.abs(weight * gradient).sum(), rel=1e-5)
    assert grad_norm(model, inputs, targets) == pytest.approx(np.linalg.norm(gradient), rel=1e-5)


def test_jacob_cov_scores_the_correlation_of_the_input_jacobians():
    rng = np.random.default_rng(0)
    w1, w2, x = rng.normal(size=(4, 5)), rng.normal(size=(2, 4)), rng.normal(size=(3, 5))
    model = nn.Sequential(nn.Linear(5, 4, bias=False), nn.ReLU(), nn.Linear(4, 2, bias=False))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor(w1))
        model[2].weight.copy_(torch.tensor(w2))
    # d(sum of the outputs)/dx_i = W1^T diag(relu'(W1 x_i)) W2^T 1, one row per input
    jacobians = np.stack([w1.T @ ((w1 @ xi > 0) * (w2.T @ np.ones(2))) for xi in x])
    centred = jacobians - jacobians.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(centred, axis=1)
    eigenvalues = np.linalg.eigvalsh(centred @ centred.T / np.outer(norms, norms))
    expected = -np.sum(np.log(eigenvalues + 1e-5) + 1 / (eigenvalues + 1e-5))
    assert jacob_cov(model, torch.tensor(x, dtype=torch.float32)) == pytest.approx(expected, rel=1e-5)
    # a second input with the first one's ReLU pattern has its Jacobian: a singular correlation scores far lower
    same_pattern = torch.tensor(x[[0, 0, 2]] * [[1.0], [2.0], [1.0]], dtype=torch.float32)
    assert jacob_cov(model, same_pattern) < expected - 1e4


def by_hand_ranks(values):
    """1-based ranks, ties sharing the mean of their ranks, counted pair by pair."""
    return [1 + sum(v < u for v in values) + (sum(v == u for v in values) - 1) / 2 for u in values]


def by_hand_pearson(x, y):
    mx, my = sum(x) / len(x), sum(y) / len(y)
    cov = sum((a - mx) * (b - my) for a, b in zip(x, y))
    return cov / math.sqrt(sum((a - mx) ** 2 for a in x) * sum((b - my) ** 2 for b in y))


def by_hand_spearman(x, y):
    return by_hand_pearson(by_hand_ranks(list(x)), by_hand_ranks(list(y)))


def by_hand_kendall(x, y):
    """tau-b over every pair, one pair at a time."""
    pairs = [(i, j) for i in range(len(x)) for j in range(i + 1, len(x))]
    sign = lambda v: (v > 0) - (v < 0)  # noqa: E731
    concordance = sum(sign(x[i] - x[j]) * sign(y[i] - y[j]) for i, j in pairs)
    untied_x = sum(x[i] != x[j] for i, j in pairs)
    untied_y = sum(y[i] != y[j] for i, j in pairs)
    return concordance / math.sqrt(untied_x * untied_y)


def test_rank_correlations_by_hand_and_with_ties():
    x, y = [1, 2, 3, 4], [1, 3, 2, 4]
    assert spearman(x, y) == pytest.approx(1 - 6 * 2 / (4 * 15))  # sum d^2 = 2
    assert kendall(x, y) == pytest.approx((5 - 1) / 6)  # one discordant pair of six
    assert average_ranks([10, 20, 20, 30]).tolist() == [1, 2.5, 2.5, 4]
    # tau-b with ties: x ties one pair, y ties one pair; C=4, D=0 -> 4 / sqrt(5 * 5)
    assert kendall([1, 1, 2, 3], [1, 2, 3, 3]) == pytest.approx(4 / 5)
    # a pair tied on both sides counts in both tie counts: C=2, D=0 -> 2 / sqrt((3 - 1) * (3 - 1))
    assert kendall([1.5, 1.5, 9.0], [-3.0, -3.0, 7.0]) == pytest.approx(1.0)
    assert math.isnan(kendall([2.0, 2.0, 2.0], [1.0, 2.0, 3.0])) and math.isnan(spearman([1, 2, 3], [4, 4, 4]))


def test_spearman_correlates_ranks_not_values():
    # values that are not ranks, with ties: average ranks (1.5, 1.5, 3, 4) and (1, 2.5, 2.5, 4), centred
    # (-1, -1, .5, 1.5) and (-1.5, 0, 0, 1.5): rho = 3.75 / sqrt(4.5 * 4.5) = 5/6 (Pearson of the values: 0.936)
    x, y = [0.1, 0.1, 3.0, 50.0], [10.0, 20.0, 20.0, 40.0]
    assert spearman(x, y) == pytest.approx(5 / 6, abs=1e-12)
    # a monotone but non-linear relation is a perfect rank correlation
    assert spearman([1.0, 2.0, 3.0, 4.0, 5.0], [1.0, 8.0, 27.0, 64.0, 1000.0]) == pytest.approx(1.0, abs=1e-12)
    # many ties, and kendall's row chunks: against the pair-by-pair definitions
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 5, 300).tolist(), (rng.integers(0, 5, 300) ** 3 * 0.5).tolist()
    assert spearman(a, b) == pytest.approx(by_hand_spearman(a, b), abs=1e-12)
    assert kendall(a, b, chunk=7) == pytest.approx(by_hand_kendall(a, b), abs=1e-12)


@pytest.fixture(scope="module")
def batch():
    return fixed_batch("digits16", 16)


def test_the_proxy_evaluator_scores_cells_deterministically_and_drives_a_search(batch):
    evaluator = ProxyEvaluator("naswot", *batch, num_classes=10, channel=4, num_cells=1)
    cell = Arch.from_str("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|")
    empty = Arch.from_str("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    assert evaluator.evaluate(cell, None, 0).score == evaluator.evaluate(cell, None, 5).score
    assert evaluator.score(cell) > evaluator.score(empty)  # a cell that computes separates the inputs better
    for proxy in PROXIES:
        assert math.isfinite(evaluator.score(cell, proxy))
    result = run_trials(create_optimizer("rea", evaluator.space, 0, population=4), evaluator, max_trials=8)
    assert result.best_score == max(trial.score for trial in result.trials)


def test_proxy_correlations_report_spearman_and_kendall(batch):
    evaluator = ProxyEvaluator("synflow", *batch, num_classes=10, channel=4, num_cells=1)
    archs = [Arch(tuple((k + i) % 5 for k in range(6))) for i in range(5)] + [Arch((3,) * 6), Arch((0,) * 6)]
    accuracies = np.array([arch.op_indices.count(3) * 5.0 + arch.op_indices.count(2) for arch in archs])
    table = proxy_correlations(evaluator, archs, accuracies, ("synflow", "naswot"))
    assert set(table) == {"synflow", "naswot"}
    for proxy, row in table.items():
        scores = [evaluator.score(arch, proxy) for arch in archs]
        assert row == pytest.approx({"spearman": by_hand_spearman(scores, accuracies.tolist()),
                                     "kendall": by_hand_kendall(scores, accuracies.tolist())}, abs=1e-12)
        assert abs(row["spearman"] - by_hand_pearson(scores, accuracies.tolist())) > 0.01  # the check tells them apart


def test_an_unknown_proxy_is_one_clear_error(batch):
    with pytest.raises(ConfigError, match="unknown proxy 'zen'; expected one of naswot, synflow, snip, grad_norm, jacob_cov$"):
        ProxyEvaluator("zen", *batch, num_classes=10)


def test_the_command_lines_proxy_names_are_the_proxies():
    assert PROXY_NAMES == tuple(PROXIES)  # --proxy's choices are listed without importing torch
