"""Mechanisms of the weight-sharing searches that their outputs alone do not show: each test here was seen to
fail with the break named in its docstring injected into the library (docs/ARCHITECTURE.md, "Tests that fail
when the code breaks").  Tiny supernets (C=4, N=1) on digits16, one or a few steps each."""
import itertools
from collections import Counter

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from autodl.algorithms import algorithm_config, create_algorithm
from autodl.algorithms.oneshot import gdas as gdas_module
from autodl.algorithms.oneshot.base import SearchTask
from autodl.algorithms.oneshot.gdas import gumbel_hard
from autodl.algorithms.oneshot.run import supernet_config
from autodl.config import OptimConfig
from autodl.data.search import get_search_loaders
from autodl.models import create_model
from autodl.models.mixed import MixedEdge
from autodl.spaces.nb201 import OP_NAMES, Arch
from tiny_search import tiny_values

CPU = torch.device("cpu")
OPTIM = OptimConfig(epochs=3, LR=0.025, eta_min=0.001, momentum=0.9, nesterov=True, decay=5e-4)
SMALL = dict(channel=4, num_cells=1, select_num=8, controller_train_steps=1, controller_num_aggregate=1,
             controller_num_samples=8, controller_epoch_samples=8)
IMAGE = 16  # digits16: 16 x 16 images


@pytest.fixture(scope="module")
def loaders():
    return get_search_loaders("digits16", batch_size=8, test_batch_size=64, workers=0)


@pytest.fixture(scope="module")
def batch(loaders):
    torch.manual_seed(0)
    return next(iter(loaders.search))  # (inputs, targets, arch inputs, arch targets)


def make_task(name, loaders, space="nas-bench-201", seed=0):
    torch.manual_seed(seed)
    search = algorithm_config(name, space=space, **tiny_values(name, **SMALL))
    return create_algorithm(name, create_model(supernet_config(name, search, 10)), loaders, OPTIM, search, CPU, seed=seed)


def spy(monkeypatch, owner, attribute):
    """Wrap ``owner.attribute`` so that every call's arguments and result are recorded, then passed on."""
    calls, real = [], getattr(owner, attribute)

    def recording(*args, **kwargs):
        result = real(*args, **kwargs)
        calls.append((args, kwargs, result))
        return result

    monkeypatch.setattr(owner, attribute, recording)
    return calls


# ----------------------------------------------------------------------------------------- DARTS-V1
def test_darts_v1_steps_alpha_on_the_valid_half_after_the_weight_step(loaders, batch):
    """Break: the architecture step on the train half (inputs, targets) of the paired batch."""
    x, y, x_arch, y_arch = batch
    task = make_task("darts-v1", loaders)
    task.start_epoch(0, 3)
    task.search_step(x, y, x_arch, y_arch)
    # the same start, by hand: the weight step on the train half, then dL/dalpha on the valid half at the new weights
    twin = make_task("darts-v1", loaders)
    twin.start_epoch(0, 3)
    twin.weight_step(x, y, weights=twin.softmax_weights())

    def alpha_gradient(inputs, targets):
        logits = twin.supernet(inputs, weights=[F.softmax(a, dim=-1) for a in twin.arch_parameters])[1]
        return torch.autograd.grad(F.cross_entropy(logits, targets), twin.arch_parameters)

    on_valid, on_train = alpha_gradient(x_arch, y_arch), alpha_gradient(x, y)
    assert not torch.allclose(on_valid[0], on_train[0], rtol=1e-2)  # the two halves tell apart
    for got, expected in zip((a.grad for a in task.arch_parameters), on_valid):
        torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-7)


# --------------------------------------------------------------------------------------------- GDAS
def test_gdas_anneals_tau_linearly_from_tau_max_to_tau_min_over_the_epochs(loaders, batch, monkeypatch):
    """Break: tau fixed at tau_max (no annealing)."""
    draws = spy(monkeypatch, gdas_module, "gumbel_hard")
    task = make_task("gdas", loaders)
    epochs = 4
    for epoch in range(epochs):
        draws.clear()
        task.start_epoch(epoch, epochs)
        task.train_step(batch, epoch, 0.0)
        expected = 10.0 - (10.0 - 0.1) * epoch / (epochs - 1)  # the GDAS recipe's tau_max 10 and tau_min 0.1
        assert len(draws) == 2 and all(args[1] == pytest.approx(expected) for args, _, _ in draws)
        assert task.select(epoch)["tau"] == pytest.approx(expected)


@pytest.mark.parametrize("tau", [10.0, 0.5])
def test_gumbel_hard_is_the_straight_through_softmax_at_temperature_tau(tau):
    """Break: the Gumbel softmax ignoring tau (or using another temperature)."""
    torch.manual_seed(1)
    alpha = torch.randn(6, 5, requires_grad=True)
    generator = torch.Generator().manual_seed(3)
    replay = torch.Generator()
    replay.set_state(generator.get_state())
    hard, index = gumbel_hard(alpha, tau, generator)
    gumbel = -torch.empty(6, 5, dtype=torch.float64).exponential_(generator=replay).log()
    soft = F.softmax((F.log_softmax(alpha, dim=-1) + gumbel.float()) / tau, dim=-1)
    assert index == soft.argmax(dim=-1).tolist()
    weights = torch.randn(6, 5)
    got = torch.autograd.grad((hard * weights).sum(), alpha)[0]
    torch.testing.assert_close(got, torch.autograd.grad((soft * weights).sum(), alpha)[0])


def conv_channels(monkeypatch):
    """Every F.conv2d call's output channels, summed per (input width, kernel size)."""
    counts = Counter()
    real = F.conv2d

    def counting(inputs, weight, *args, **kwargs):
        counts[(inputs.shape[-1], weight.shape[-1])] += weight.shape[0]
        return real(inputs, weight, *args, **kwargs)

    monkeypatch.setattr(F, "conv2d", counting)
    return counts


def test_gdas_runs_only_the_sampled_op_of_each_nb201_edge(loaders, batch, monkeypatch):
    """Break: GDAS running every op of an edge (the same output: its weights are one-hot in the forward pass)."""
    task = make_task("gdas", loaders)
    task.start_epoch(0, 3)
    draws = spy(monkeypatch, gdas_module, "gumbel_hard")
    counts = conv_channels(monkeypatch)
    with torch.no_grad():  # the convolutions outside the cells: the stem and the two residual reductions
        task.supernet(batch[0], indices=[[OP_NAMES.index("skip_connect")] * 6])
    outside = Counter(counts)
    counts.clear()
    task.train_step(batch, 0, 0.0)
    expected = outside + outside  # the weight step's and the architecture step's forward passes
    kernels = {"nor_conv_1x1": 1, "nor_conv_3x3": 3}
    for _, _, (_, indices) in draws:
        for stage in range(3):  # N = 1 cell per stage, at C * 2^s channels and width 16 / 2^s
            for op in indices:
                if OP_NAMES[op] in kernels:
                    expected[(IMAGE >> stage, kernels[OP_NAMES[op]])] += SMALL["channel"] << stage
    assert len(draws) == 2 and counts == expected


def test_gdas_runs_only_the_sampled_op_of_each_nasnet_edge(loaders, batch, monkeypatch):
    """Break: as above, on the NASNet space (forward hooks on every op of every mixed edge)."""
    task = make_task("gdas", loaders, space="darts")
    task.start_epoch(0, 3)
    draws = spy(monkeypatch, gdas_module, "gumbel_hard")
    ran = Counter()
    for c, cell in enumerate(task.supernet.cells):
        edges = [m for m in cell.modules() if isinstance(m, MixedEdge)]
        assert len(edges) == 14
        for e, edge in enumerate(edges):
            for k, op in enumerate(edge.ops):
                op.register_forward_hook(lambda *_, key=(c, e, k): ran.update([key]))
    task.train_step(batch, 0, 0.0)
    assert len(draws) == 4  # two forward passes, a normal and a reduction draw each
    expected = Counter()
    for normal, reduce in zip(draws[0::2], draws[1::2]):
        for c, cell in enumerate(task.supernet.cells):
            indices, ops = (reduce, task.supernet.op_lists[1]) if cell.reduction else (normal, task.supernet.op_lists[0])
            expected.update((c, e, k) for e, k in enumerate(indices[2][1]) if ops[k] != "none")
    assert ran == expected


# --------------------------------------------------------------------------------------------- SETN
def test_setn_scores_the_top_k_cells_by_probability(loaders, monkeypatch):
    """Break: SETN's candidates drawn at random instead of the select_num most probable cells."""
    task = make_task("setn", loaders)
    with torch.no_grad():  # a spread-out distribution, so the top 8 have no near ties
        task.arch_parameters[0].copy_(torch.randn(6, 5, generator=torch.Generator().manual_seed(4)))
    calls = spy(monkeypatch, task, "best_of")
    answer = task.final_arch()
    log_probs = F.log_softmax(task.arch_parameters[0].detach().double(), dim=-1).numpy()
    cells = np.array(list(itertools.product(range(5), repeat=6)))  # all 15625 cells
    scores = log_probs[np.arange(6), cells].sum(axis=1)
    top = {tuple(int(op) for op in cell) for cell in cells[np.argsort(-scores)[:SMALL["select_num"]]]}
    (candidates,), _, (best, _) = calls[-1]
    assert {tuple(c[0]) for c in candidates} == top and answer == Arch(tuple(best[0]))


# ------------------------------------------------------------------------------ candidate selection
def by_hand_top1(supernet, inputs, targets, candidate):
    was_training = supernet.training
    supernet.eval()
    with torch.no_grad():
        logits = supernet(inputs, indices=candidate)[1]
    supernet.train(was_training)
    return 100.0 * float((logits.argmax(dim=1) == targets).sum()) / len(targets)


@pytest.mark.parametrize("name", ["rsps", "setn", "enas"])  # the searches whose answer is SearchTask.best_of's
def test_the_selection_keeps_the_candidate_of_highest_valid_accuracy(name, loaders, monkeypatch):
    """Break: best_of keeping the first candidate (or any but the most accurate)."""
    for inputs, targets in loaders.valid:  # the first valid batch on which the first candidate is not the best
        task = make_task(name, loaders._replace(valid=[(inputs, targets)]))  # every candidate on this batch
        calls = spy(monkeypatch, task, "best_of")
        task.start_epoch(0, 3)
        answer = task.final_arch()  # untrained: after a weight step most candidates predict one class
        (candidates,), _, (best, best_top1) = calls[-1]
        top1 = [by_hand_top1(task.supernet, inputs, targets, c) for c in candidates]
        if top1[0] < max(top1):
            break
    else:
        pytest.fail("no valid batch tells the best candidate from the first")
    assert len(candidates) == SMALL["select_num" if name != "enas" else "controller_num_samples"]
    assert (best, best_top1) == (candidates[top1.index(max(top1))], max(top1))
    assert answer == Arch(tuple(best[0]))


def test_best_of_is_the_first_of_the_most_accurate_candidates(loaders):
    """Break: best_of keeping the first or the last candidate, or the last of equally accurate ones."""
    inputs, targets = next(iter(loaders.valid))
    task = make_task("rsps", loaders._replace(valid=[(inputs, targets)]), seed=2)
    cells = [[list(cell)] for cell in itertools.product([1, 2, 3], repeat=6)][::37]  # 20 cells
    top1 = [by_hand_top1(task.supernet, inputs, targets, c) for c in cells]
    order = sorted(range(len(cells)), key=lambda k: top1[k])
    best = max(top1)
    # worst first, then the most accurate ones, then the rest: the first of the best is in the middle
    ranked = [order[0]] + [k for k in range(len(cells)) if top1[k] == best] + order[1:-1]
    ranked = list(dict.fromkeys(ranked))
    assert top1[ranked[0]] < best
    candidates = [cells[k] for k in ranked] + [[list(cells[ranked[1]][0])]]  # and a copy of the best, last
    chosen, chosen_top1 = SearchTask.best_of(task, candidates)
    assert chosen is candidates[1] and chosen_top1 == best
