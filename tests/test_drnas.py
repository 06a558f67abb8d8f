"""DrNAS's defining mechanisms: the op weights are Dirichlet draws of concentration elu(alpha) + 1 (their mean
and variance are the Dirichlet's), drawn from the run's generator with a pathwise gradient; the KL anchor
and its gradient are the closed form worked out by hand and enter the architecture step; with the anchor off
and a huge concentration a step approaches DARTS-V1's with the Dirichlet mean as the op weights."""
import math

import pytest
import torch
import torch.nn.functional as F

from autodl.algorithms import algorithm_config, create_algorithm
from autodl.algorithms.oneshot.run import supernet_config
from autodl.config import OptimConfig
from autodl.data.search import SearchLoaders, get_search_loaders
from autodl.errors import ConfigError
from autodl.models import create_model

CPU = torch.device("cpu")
OPTIM = OptimConfig(epochs=1, LR=0.05, momentum=0.9, nesterov=True, decay=5e-4)
STEPS = 2


@pytest.fixture(scope="module")
def loaders():
    torch.manual_seed(0)  # the loaders' shuffling
    real = get_search_loaders("digits16", batch_size=16, test_batch_size=60, workers=0)
    return SearchLoaders(*([[t.double() if t.is_floating_point() else t for t in batch]
                            for batch, _ in zip(loader, range(STEPS))] for loader in real[:3]))


def make_task(name, loaders, seed=0, channel=2, **settings):
    torch.manual_seed(0)
    search = algorithm_config(name, channel=channel, num_cells=1, **settings)
    net = create_model(supernet_config(name, search, 10)).double()
    return create_algorithm(name, net, loaders, OPTIM, search, CPU, seed=seed)


def concentration_by_hand(alpha):
    """elu(alpha) + 1, element by element: alpha + 1 above zero, exp(alpha) below (clamped, so that the branch
    not taken has a finite gradient)."""
    return torch.where(alpha > 0, alpha + 1, alpha.clamp(max=0).exp())


def set_alpha(task, values):
    with torch.no_grad():
        task.arch_parameters[0].copy_(values)


def test_the_draws_follow_the_dirichlet_of_concentration_elu_alpha_plus_1(loaders):
    task = make_task("drnas", loaders)
    alpha = torch.tensor([[-1.0, 0.0, 0.5, 1.0, 3.0], [2.0, 2.0, 2.0, 2.0, 2.0], [-2.0, -0.5, 0.0, 0.2, 6.0],
                          [0.1, 0.2, 0.3, 0.4, 0.5], [4.0, -3.0, 1.0, 0.0, 0.0], [1.5, 0.5, -0.5, 2.5, 0.0]],
                         dtype=torch.float64)
    set_alpha(task, alpha)
    draws = torch.stack([task.sample()[0].detach() for _ in range(600)])
    c = concentration_by_hand(alpha)
    total = c.sum(dim=1, keepdim=True)
    mean, variance = c / total, c * (total - c) / (total ** 2 * (total + 1))
    assert torch.allclose(draws.sum(dim=-1), torch.ones(len(draws), 6, dtype=torch.float64))
    error = (draws.mean(dim=0) - mean).abs() / (variance / len(draws)).sqrt()
    assert error.max() < 5, f"sample means {error.max():.1f} standard errors from the Dirichlet mean"
    # a Dirichlet's spread, not its mean alone: per edge, the total variance (1 - sum mean^2) / (sum c + 1)
    torch.testing.assert_close(draws.var(dim=0).sum(dim=1), variance.sum(dim=1), rtol=0.2, atol=0)
    torch.testing.assert_close(task.arch_probabilities()[0], mean)


def test_the_draws_come_from_the_tasks_generator_and_carry_the_pathwise_gradient(loaders):
    first, second = make_task("drnas", loaders, seed=7), make_task("drnas", loaders, seed=7)
    state = first.generator.get_state()
    global_rng = torch.get_rng_state()
    draws = [first.sample()[0] for _ in range(3)]
    assert torch.equal(torch.get_rng_state(), global_rng)  # data augmentation's generator is untouched
    assert all(torch.equal(a.detach(), second.sample()[0].detach()) for a in draws)  # DDP ranks alike
    first.generator.set_state(state)  # a resume restores the generator and repeats the draws
    assert torch.equal(first.sample()[0].detach(), draws[0].detach())
    assert not torch.equal(draws[0], draws[1])
    (draws[0] * torch.arange(5, dtype=torch.float64)).sum().backward()
    grad = first.arch_parameters[0].grad
    assert grad is not None and grad.abs().min() > 0


def kl_by_hand(c, prior):
    """KL(Dir(c) || Dir(prior)) per row and its gradient in c, from the closed form
    lgamma(c0) - sum lgamma(c_i) - lgamma(K b) + K lgamma(b) + sum (c_i - b)(digamma(c_i) - digamma(c0))."""
    K, c0 = c.shape[-1], c.sum(dim=-1, keepdim=True)
    value = (torch.lgamma(c0).squeeze(-1) - torch.lgamma(c).sum(-1) - math.lgamma(K * prior) + K * math.lgamma(prior)
             + ((c - prior) * (torch.digamma(c) - torch.digamma(c0))).sum(-1))
    grad = (c - prior) * torch.polygamma(1, c) - (c0 - K * prior) * torch.polygamma(1, c0)
    return value, grad


@pytest.mark.parametrize("prior", [1.0, 0.5])
def test_the_anchor_and_its_gradient_are_the_closed_form_kl(loaders, prior):
    task = make_task("drnas", loaders, kl_scale=0.3, prior_concentration=prior)
    alpha = torch.linspace(-2, 3, 30, dtype=torch.float64).reshape(6, 5)
    set_alpha(task, alpha)
    value, grad_c = kl_by_hand(concentration_by_hand(alpha), prior)
    anchor = task.anchor()
    torch.testing.assert_close(anchor, 0.3 * value.sum())
    anchor.backward()
    dc_dalpha = torch.where(alpha > 0, torch.ones_like(alpha), alpha.exp())
    torch.testing.assert_close(task.arch_parameters[0].grad, 0.3 * grad_c * dc_dalpha)


def test_the_anchor_enters_the_architecture_step(loaders):
    """The same architecture step with and without the anchor (same start, same draw): the gradients differ
    by exactly the anchor's closed-form gradient, and the step reports the anchor's value."""
    alpha = torch.linspace(-1, 2, 30, dtype=torch.float64).reshape(6, 5)
    grads, sums = [], []
    for scale in (0.2, 0.0):
        task = make_task("drnas", loaders, kl_scale=scale)
        set_alpha(task, alpha)
        task.start_epoch(0, 1)
        sums.append(task.train_step(loaders.search[0], 0, 0.0))
        grads.append(task.arch_parameters[0].grad.clone())
    start = make_task("drnas", loaders)
    set_alpha(start, alpha)
    _, grad_c = kl_by_hand(concentration_by_hand(alpha), 1.0)
    dc_dalpha = torch.where(alpha > 0, torch.ones_like(alpha), alpha.exp())
    torch.testing.assert_close(grads[0] - grads[1], 0.2 * grad_c * dc_dalpha)
    n = len(loaders.search[0][3])
    value, _ = kl_by_hand(concentration_by_hand(alpha), 1.0)
    torch.testing.assert_close(sums[0]["arch_kl"] / n, 0.2 * value.sum())
    assert float(sums[1]["arch_kl"]) == 0.0


def darts_with_mean_weights(loaders):
    """DARTS-V1 whose op weights are the Dirichlet mean (elu(alpha) + 1) / sum instead of softmax(alpha)."""
    task = make_task("darts-v1", loaders, channel=4, arch_decay=0.0)

    def mean_weights():
        return [c / c.sum(dim=-1, keepdim=True) for c in (concentration_by_hand(a) for a in task.arch_parameters)]

    task.softmax_weights = mean_weights
    return task


def one_step(loaders, scale):
    """One step of DrNAS without the anchor and of DARTS-V1 on the Dirichlet mean, both from alpha = scale *
    (1 + u), u in [0, 1): the relative difference of their weight-step and architecture-step losses, and
    1 - the cosine between their weight updates."""
    u = torch.rand(6, 5, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    tasks = [make_task("drnas", loaders, channel=4, kl_scale=0.0, arch_decay=0.0), darts_with_mean_weights(loaders)]
    for task in tasks:
        set_alpha(task, scale * (1 + u))
    start = torch.cat([p.detach().reshape(-1) for n, p in tasks[1].supernet.named_parameters() if n != "arch"])
    sums, updates = [], []
    for task in tasks:
        task.start_epoch(0, 1)
        sums.append(task.train_step(loaders.search[0], 0, 0.0))
        updates.append(torch.cat([p.detach().reshape(-1) for n, p in task.supernet.named_parameters()
                                  if n != "arch"]) - start)
    loss_gap = max(abs(float(sums[0][k] / sums[1][k]) - 1) for k in ("loss", "arch_loss"))
    return loss_gap, 1 - float(F.cosine_similarity(*updates, dim=0))


def test_with_the_anchor_off_a_huge_concentration_approaches_the_darts_v1_step(loaders):
    """The draws' spread falls as 1/sqrt(concentration), so a DrNAS step approaches DARTS-V1's on the mean:
    its losses and its weight update (the alpha gradient: the test below, in expectation)."""
    far, near = one_step(loaders, 1e2), one_step(loaders, 1e8)
    assert all(n < f / 10 and n < 1e-3 for n, f in zip(near, far)), (far, near)


def test_the_pathwise_gradient_of_a_linear_loss_averages_to_the_gradient_at_the_mean(loaders):
    """E[grad_alpha <a, w>] over w ~ Dir(elu(alpha) + 1) equals grad_alpha <a, E w> (the reparameterised
    gradient is unbiased), worked out by hand: d/dc_j <a, c / S> = (a_j - <a, c> / S) / S, times dc/dalpha."""
    task = make_task("drnas", loaders)
    alpha = torch.linspace(-1.5, 2.5, 30, dtype=torch.float64).reshape(6, 5)
    set_alpha(task, alpha)
    a = torch.tensor([0.0, 1.0, -2.0, 0.5, 3.0], dtype=torch.float64)
    grads = []
    for _ in range(600):
        task.arch_parameters[0].grad = None
        (task.sample()[0] * a).sum().backward()
        grads.append(task.arch_parameters[0].grad.clone())
    grads = torch.stack(grads)
    c = concentration_by_hand(alpha)
    total = c.sum(dim=1, keepdim=True)
    want = (a - (c * a).sum(dim=1, keepdim=True) / total) / total * torch.where(alpha > 0, 1.0, alpha.exp())
    error = (grads.mean(dim=0) - want).abs() / (grads.std(dim=0) / len(grads) ** 0.5)
    assert error.max() < 5, f"the averaged gradient is {error.max():.1f} standard errors from the gradient at the mean"


def test_bad_settings_are_one_line():
    with pytest.raises(ConfigError, match="kl_scale >= 0 and prior_concentration > 0"):
        algorithm_config("drnas", prior_concentration=0.0)
