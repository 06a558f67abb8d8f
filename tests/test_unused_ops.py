"""Ops that did not run in a step (reference inventory 8.23): the fused supernets update every op's weights
exactly as a model with one module per op per edge does under plain ``torch.optim.SGD``, in both of the
original's behaviours (``unused_ops``: ``decay`` = PyTorch 1.x, ``skip`` = PyTorch >= 2), with the search
recipes' SGD (momentum 0.9, Nesterov, weight decay 5e-4)."""
import copy
import types

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from autodl.algorithms import ALGORITHMS, algorithm_config, create_algorithm
from autodl.algorithms.oneshot import SearchTask
from autodl.algorithms.oneshot.run import supernet_config
from autodl.config import UNUSED_OP_UPDATES, OptimConfig, SearchConfig
from autodl.data.search import SearchLoaders, get_search_loaders
from autodl.models import create_model
from autodl.models.mixed import MixedEdge
from autodl.models.supernet_nb201 import per_op_copy, per_op_names

from tiny_search import tiny_settings

CPU = torch.device("cpu")
OPTIM = OptimConfig(epochs=1, LR=0.05, momentum=0.9, nesterov=True, decay=5e-4)
TOL = dict(rtol=1e-9, atol=1e-12)
# NB201 cells (op per edge 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2; 0 none, 1 skip, 2 conv 1x1, 3 conv 3x3, 4 pool):
NB201_STEPS = [
    [3, 0, 0, 0, 1, 0],  # edge 1<-0 runs its 3x3 conv
    [0, 0, 0, 3, 0, 0],  # ... then not, while its sibling 3<-0 runs the same kind (the case)
    [2, 3, 0, 3, 0, 0],  # node 2 reaches the output only through `none`: its 3x3 conv runs unseen
    [3, 2, 2, 0, 0, 0],  # the output node reads only `none`: the whole cell (and the stem) only via x * 0
    None,                # the softmax-weighted sum (every op runs)
    [1, 4, 0, 2, 0, 3],
    [0, 0, 0, 0, 0, 0],
]


def base_algorithm(space: str) -> str:
    """A registered algorithm that takes the base task's weight and architecture steps on ``space``."""
    return next(n for n in ALGORITHMS.names() if space in ALGORITHMS.get(n).spaces
                and ALGORITHMS.get(n).task.uses_arch_parameters and ALGORITHMS.get(n).task.clip_weights
                and ALGORITHMS.get(n).task.arch_step is SearchTask.arch_step)


def tiny_supernet(space: str) -> nn.Module:
    torch.manual_seed(0)
    search = SearchConfig(space=space, channel=4 if space == "nas-bench-201" else 2, num_cells=1)
    net = create_model(supernet_config(base_algorithm(space), search, 5)).double()
    with torch.no_grad():
        for alpha in net.arch_parameters():
            alpha.normal_()
    return net


def per_op_model(net: nn.Module) -> tuple[nn.Module, dict[str, str]]:
    """The original's formulation of ``net`` and the parameter name map: NB201 as one module per op per
    edge (:func:`per_op_copy`); NASNet (one module per op already) with every selected op computed, ``none``
    as ``x * 0`` included, and the weighted sum over all ops."""
    if net.space == "nas-bench-201":
        return per_op_copy(net), per_op_names(net)
    reference = copy.deepcopy(net)
    for module in reference.modules():
        if isinstance(module, MixedEdge):
            module.forward = types.MethodType(original_edge, module)
    return reference, {name: name for name, _ in net.named_parameters()}


def original_edge(edge: MixedEdge, inputs: torch.Tensor, weights, index):
    if index is None:
        return sum(weights[k] * op(inputs) for k, op in enumerate(edge.ops))
    output = edge.ops[index](inputs)
    return output if weights is None else weights[index] * output


def choices(net: nn.Module, generator: torch.Generator):
    """(weight-step choice, arch-step choice) pairs: discrete cells (NB201: the table above), GDAS-style
    straight-through one-hots, and the weighted sum."""
    for step, ops in enumerate(NB201_STEPS):
        alphas = net.arch_parameters()
        if ops is None:
            yield dict(weights=True), dict(weights=True)
            continue
        indices = ([ops] if net.space == "nas-bench-201" else
                   [torch.randint(a.shape[1], (a.shape[0],), generator=generator).tolist() for a in alphas])
        if net.space != "nas-bench-201" and step == 3:  # a cell whose input states only feed `none` edges
            indices = [[0] * a.shape[0] for a in alphas]
        arch = [torch.randint(a.shape[1], (a.shape[0],), generator=generator).tolist() for a in alphas]
        yield dict(indices=indices), dict(weights=True, indices=arch)


def resolve(choice: dict, alphas) -> dict:
    """Concrete forward arguments: ``weights=True`` becomes softmax weights, or straight-through one-hots
    of ``indices`` when both are given."""
    if not choice.get("weights"):
        return dict(indices=choice["indices"])
    probs = [F.softmax(a, dim=-1) for a in alphas]
    if "indices" not in choice:
        return dict(weights=probs)
    hard = [F.one_hot(torch.tensor(ix), p.shape[-1]).to(p.dtype) - p.detach() + p
            for ix, p in zip(choice["indices"], probs)]
    return dict(weights=hard, indices=choice["indices"])


def batches():
    generator = torch.Generator().manual_seed(1)
    while True:
        yield torch.randn(4, 3, 8, 8, generator=generator, dtype=torch.float64), torch.randint(5, (4,), generator=generator)


def plain_training(model: nn.Module, unused_ops: str) -> torch.optim.SGD:
    """The original's loop on the per-op model: plain SGD on the weights, Adam on alpha (the search
    defaults), each step ``zero_grad`` (in place on PyTorch 1.x, ``set_to_none`` on >= 2), backward,
    clip 5, step."""
    alphas, config = model.arch_parameters(), SearchConfig()
    weights = [p for p in model.parameters() if all(p is not a for a in alphas)]
    sgd = torch.optim.SGD(weights, lr=OPTIM.LR, momentum=OPTIM.momentum, nesterov=True, weight_decay=OPTIM.decay)
    adam = torch.optim.Adam(alphas, lr=config.arch_LR, betas=tuple(config.arch_betas), eps=config.arch_eps,
                            weight_decay=config.arch_decay)
    data = batches()
    for weight_choice, arch_choice in choices(model, torch.Generator().manual_seed(2)):
        x, y = next(data)
        sgd.zero_grad(set_to_none=unused_ops == "skip")
        choice = resolve(weight_choice, alphas)
        choice = {k: [w.detach() for w in v] if k == "weights" else v for k, v in choice.items()}
        F.cross_entropy(model(x, **choice)[1], y).backward()
        nn.utils.clip_grad_norm_(weights, 5.0)
        sgd.step()
        x, y = next(data)
        adam.zero_grad(set_to_none=True)
        F.cross_entropy(model(x, **resolve(arch_choice, alphas))[1], y).backward()
        adam.step()
    return sgd


def task_training(net: nn.Module, unused_ops: str):
    """The same steps through a search task's ``weight_step`` / ``arch_step`` on the fused supernet."""
    search = SearchConfig(space=net.space, unused_ops=unused_ops, channel=net.C, num_cells=1)
    name = base_algorithm(net.space)
    task = create_algorithm(name, net, SearchLoaders([], [], []), OPTIM, algorithm_config(name, search), CPU)
    data = batches()
    for weight_choice, arch_choice in choices(net, torch.Generator().manual_seed(2)):
        task.weight_step(*next(data), **resolve(weight_choice, net.arch_parameters()))
        task.arch_step(*next(data), **resolve(arch_choice, net.arch_parameters()))
    return task


def assert_same_training(net, sgd_net, reference, sgd_reference, names) -> None:
    ref_params = dict(reference.named_parameters())
    for name, param in net.named_parameters():
        ref = ref_params[names[name]]
        torch.testing.assert_close(param, ref, **TOL, msg=lambda m: f"{name}: {m}")
        state, ref_state = sgd_net.state.get(param, {}), sgd_reference.state.get(ref, {})
        if name.startswith("arch"):
            continue
        assert ("momentum_buffer" in state) == ("momentum_buffer" in ref_state), f"{name}: momentum on one side only"
        if "momentum_buffer" in state:
            torch.testing.assert_close(state["momentum_buffer"], ref_state["momentum_buffer"], **TOL,
                                       msg=lambda m: f"{name} momentum: {m}")


@pytest.mark.parametrize("unused_ops", UNUSED_OP_UPDATES)
@pytest.mark.parametrize("space", ["nas-bench-201", "darts"])
def test_weight_steps_equal_plain_sgd_on_the_per_op_model(space, unused_ops):
    net = tiny_supernet(space)
    reference, names = per_op_model(net)
    sgd_reference = plain_training(reference, unused_ops)
    task = task_training(net, unused_ops)
    assert_same_training(net, task.w_optimizer, reference, sgd_reference, names)


def test_the_two_behaviours_differ_on_an_op_that_ran_before():
    """decay moves edge 1<-0's conv while it does not run; skip leaves it where it was."""
    moved = {}
    for unused_ops in UNUSED_OP_UPDATES:
        net = tiny_supernet("nas-bench-201")
        search = algorithm_config("rsps", unused_ops=unused_ops, channel=4, num_cells=1)
        task = create_algorithm("rsps", net, SearchLoaders([], [], []), OPTIM, search, CPU)
        x, y = torch.randn(4, 3, 8, 8, dtype=torch.float64), torch.randint(5, (4,))
        task.weight_step(x, y, indices=[NB201_STEPS[0]])
        conv = net.cells[0].conv3x3[0]
        before = conv.detach().clone()
        for _ in range(2):
            task.weight_step(x, y, indices=[NB201_STEPS[1]])
        moved[unused_ops] = float((conv.detach() - before).abs().max())
    assert moved["skip"] == 0.0 and moved["decay"] > 1e-4


# ------------------------------------------------------------- whole searches, fused vs per-op
# the searches of the fused NB201 supernet (a variant's own cell class has no fused layout to compare)
NB201_CASES = [name for name in ALGORITHMS.names() if "nas-bench-201" in ALGORITHMS.get(name).spaces
               and ALGORITHMS.get(name).supernet("nas-bench-201") == "search.nb201"]


STEPS = 20


@pytest.fixture(scope="module")
def loaders():
    """The first batches of the digits search loaders in float64, drawn once (lists), so both layouts train
    and select on the same ones."""
    real = get_search_loaders("digits16", batch_size=16, test_batch_size=60, workers=0)
    return SearchLoaders(*([[t.double() if t.is_floating_point() else t for t in batch]
                            for batch, _ in zip(loader, range(STEPS))] for loader in real[:3]))


def search_states(name: str, unused_ops: str, per_op: bool, loaders):
    torch.manual_seed(0)
    search = tiny_settings(name, unused_ops=unused_ops)
    net = create_model(supernet_config(name, search, 10)).double()
    names = per_op_names(net)
    if per_op:
        net = per_op_copy(net)
    task = create_algorithm(name, net, loaders, OPTIM, search, CPU, seed=0)
    task.start_epoch(0, 1)
    for k, batch in enumerate(task.train_loader):
        task.train_step(batch, 0, k / STEPS)
    params = dict(net.named_parameters())
    by_fused_name = {fused: params[ref] for fused, ref in names.items()} if per_op else params
    momentum = {n: task.w_optimizer.state.get(p, {}).get("momentum_buffer") for n, p in by_fused_name.items()}
    return {n: p.detach() for n, p in by_fused_name.items()}, momentum


@pytest.mark.parametrize("unused_ops", UNUSED_OP_UPDATES)
@pytest.mark.parametrize("name", NB201_CASES)
def test_search_trajectory_equals_the_per_op_layout(name, unused_ops, loaders):
    """20 search steps of every NB201 search (float64, same start, same draws): the fused supernet's
    weights, momentum buffers and architecture parameters equal those of the per-op layout."""
    weights, momentum = search_states(name, unused_ops, False, loaders)
    want_weights, want_momentum = search_states(name, unused_ops, True, loaders)
    for key, value in weights.items():
        assert_rounding_close(value, want_weights[key], key)
        assert (momentum[key] is None) == (want_momentum[key] is None), f"{key}: momentum on one side only"
        if momentum[key] is not None:
            assert_rounding_close(momentum[key], want_momentum[key], f"{key} momentum")


def assert_rounding_close(value: torch.Tensor, want: torch.Tensor, what: str) -> None:
    """Equal to float64 rounding after 20 steps: 1e-9 of each element or of the tensor's largest element
    (a momentum element near zero sums gradient terms that cancel, so its own relative error is larger).
    The stacked layout this guards against differed by 1e-5..1e-3 relative."""
    scale = float(want.abs().max())
    torch.testing.assert_close(value, want, rtol=1e-9, atol=1e-9 * scale, msg=lambda m: f"{what}: {m}")
