"""SNAS's defining mechanism, which its outputs alone do not show: every forward pass of a step mixes the ops with
a soft Gumbel-softmax sample (not one-hot, not straight-through) drawn at the epoch's temperature of the official
linear schedule, and the architecture gradient is the first-order one, through the sample, on the architecture
half after the weight step.  Tiny NB201 supernet (C=4, N=1) on digits16, one step per epoch."""
import pytest
import torch
import torch.nn.functional as F

from autodl.algorithms import algorithm_config, create_algorithm
from autodl.algorithms.oneshot.run import supernet_config
from autodl.config import OptimConfig
from autodl.data.search import get_search_loaders
from autodl.errors import ConfigError
from autodl.models import create_model

CPU = torch.device("cpu")
OPTIM = OptimConfig(epochs=4, LR=0.025, eta_min=0.001, momentum=0.9, nesterov=True, decay=5e-4)
EPOCHS = 4
# tau_e = 1 - 0.97 (e + 1) / 4 (the official Temp_Scheduler is stepped once before each epoch), worked out by hand
TAUS = [0.7575, 0.515, 0.2725, 0.03]


@pytest.fixture(scope="module")
def loaders():
    return get_search_loaders("digits16", batch_size=8, test_batch_size=64, workers=0)


@pytest.fixture(scope="module")
def batch(loaders):
    torch.manual_seed(0)
    return next(iter(loaders.search))


def make_task(loaders, seed=0, **settings):
    torch.manual_seed(seed)
    search = algorithm_config("snas", channel=4, num_cells=1, **settings)
    return create_algorithm("snas", create_model(supernet_config("snas", search, 10)), loaders, OPTIM, search, CPU,
                            seed=seed)


def hand_samples(alpha, generator_state, tau, count):
    """``count`` draws softmax((log_softmax(alpha) + g) / tau), g = -log(Exp(1)) in float64 from the generator."""
    generator = torch.Generator()
    generator.set_state(generator_state)
    draws = []
    for _ in range(count):
        gumbel = -torch.empty(alpha.shape, dtype=torch.float64).exponential_(generator=generator).log()
        draws.append(F.softmax((F.log_softmax(alpha, dim=-1) + gumbel.to(alpha.dtype)) / tau, dim=-1))
    return draws


def test_each_forward_mixes_the_ops_with_a_soft_sample_at_the_epochs_temperature(loaders, batch, monkeypatch):
    """Breaks seen failing: the straight-through one-hot of GDAS instead of the soft sample; tau fixed at tau_max;
    GDAS's schedule e / (E - 1); one sample shared by the weight and the architecture step."""
    x, y, x_arch, y_arch = batch
    task = make_task(loaders)
    seen = []
    forward = task.supernet.forward
    monkeypatch.setattr(task.supernet, "forward", lambda *args, **kwargs: seen.append(kwargs) or forward(*args, **kwargs))
    for epoch, tau in enumerate(TAUS):
        task.start_epoch(epoch, EPOCHS)
        assert task.tau == pytest.approx(tau, abs=1e-12)
        alpha = task.arch_parameters[0].detach().clone()
        state = task.generator.get_state()
        seen.clear()
        task.search_step(x, y, x_arch, y_arch)
        assert [kwargs["indices"] for kwargs in seen] == [None, None]  # every op runs: a weighted sum, no selection
        expected = hand_samples(alpha, state, tau, 2)
        for kwargs, want in zip(seen, expected):
            got = kwargs["weights"][0].detach()
            torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-7)
            torch.testing.assert_close(got.sum(dim=-1), torch.ones(6))
            assert not torch.equal(got, F.one_hot(got.argmax(dim=-1), 5).to(got.dtype))  # soft, not one-hot
        assert not torch.allclose(seen[0]["weights"][0], seen[1]["weights"][0])  # a fresh sample per step half


def test_the_architecture_gradient_is_first_order_through_the_sample(loaders, batch):
    """dL_valid/dalpha through z = softmax((log_softmax(alpha) + g) / tau) at the weights after the weight step,
    by hand on a twin.  Breaks seen failing: the sample detached from alpha (no search gradient); the
    architecture step on the training half; the architecture step before the weight step."""
    x, y, x_arch, y_arch = batch
    task = make_task(loaders)
    task.start_epoch(1, EPOCHS)
    state = task.generator.get_state()
    task.search_step(x, y, x_arch, y_arch)

    twin = make_task(loaders)
    twin.start_epoch(1, EPOCHS)
    alpha = twin.arch_parameters[0]
    first, _ = hand_samples(alpha.detach(), state, TAUS[1], 2)
    twin.weight_step(x, y, weights=[first])
    generator = torch.Generator()
    generator.set_state(state)
    gumbels = [-torch.empty(alpha.shape, dtype=torch.float64).exponential_(generator=generator).log().float()
               for _ in range(2)]
    sample = F.softmax((F.log_softmax(alpha, dim=-1) + gumbels[1]) / TAUS[1], dim=-1)

    def alpha_gradient(inputs, targets):
        logits = twin.supernet(inputs, weights=[sample])[1]
        return torch.autograd.grad(F.cross_entropy(logits, targets), alpha, retain_graph=True)[0]

    on_valid, on_train = alpha_gradient(x_arch, y_arch), alpha_gradient(x, y)
    assert not torch.allclose(on_valid, on_train, rtol=1e-2)  # the two halves tell apart
    torch.testing.assert_close(task.arch_parameters[0].grad, on_valid, rtol=1e-4, atol=1e-7)


def test_bad_temperatures_are_one_line_config_errors():
    with pytest.raises(ConfigError, match=r"need 0 < tau_min <= tau_max, got tau_min=2.0, tau_max=1.0"):
        algorithm_config("snas", tau_min=2.0)
