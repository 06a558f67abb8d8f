"""DARTS-'s defining mechanism: every edge adds beta_aux times an auxiliary skip connection (the space's own
skip_connect, stride 2 on reduction edges) to the softmax mixture; beta_aux falls linearly to exactly 0 in the
last epoch; the auxiliary skip is no op of the alpha table, so the derived cell never holds it; and with the
coefficient at 0 a search is DARTS-V1 step for step (float64)."""
import re

import pytest
import torch
import torch.nn.functional as F

from autodl.algorithms import algorithm_config
from autodl.algorithms.oneshot.darts_minus import AuxSkipEdge
from autodl.config import OptimConfig
from autodl.errors import ConfigError
from autodl.models.ops import build_op
from autodl.models.supernet_nb201 import per_op_copy, per_op_names
from autodl.spaces.nasnet import SEARCH_OP_SETS
from autodl.spaces.nb201 import OP_NAMES, Arch

from float64_search import float64_loaders, float64_task

OPTIM = OptimConfig(epochs=2, LR=0.05, eta_min=0.001, momentum=0.9, nesterov=True, decay=5e-4)
STEPS = 4  # per epoch


@pytest.fixture(scope="module")
def loaders():
    return float64_loaders(STEPS)


def make_task(name, loaders, **settings):
    return float64_task(name, loaders, OPTIM, **settings)


def test_the_coefficient_falls_linearly_to_exactly_zero_in_the_last_epoch(loaders):
    """Break seen failing: the official code's beta_0 (E - e) / E (beta_0 / E in the last epoch)."""
    task = make_task("darts-minus", loaders, aux_skip_start=2.0)
    edges = [m for m in task.supernet.modules() if isinstance(m, AuxSkipEdge)]
    assert len(edges) == 6 * 3  # every edge of the 3 search cells (N=1)
    seen = []
    for epoch in range(5):
        task.start_epoch(epoch, 5)
        seen.append(task.aux_scale)
        assert all(edge.aux_scale == task.aux_scale for edge in edges)
    assert seen == [2.0, 1.5, 1.0, 0.5, 0.0]


def test_an_edge_adds_beta_times_the_spaces_skip_to_the_softmax_mixture():
    """Break seen failing: the auxiliary skip left out (DARTS's mixed op)."""
    torch.manual_seed(0)
    for op_names, stride, size in ((OP_NAMES, 1, 6), (SEARCH_OP_SETS["default"][1], 2, 6)):
        edge = AuxSkipEdge(4, stride, False, op_names).double()
        skip = build_op("skip_connect", 4, 4, stride, False, False)
        assert type(edge.aux) is type(skip)  # identity on stride 1, FactorizedReduce on a reduction edge
        x = torch.randn(2, 4, size, size, dtype=torch.float64)
        weights = F.softmax(torch.randn(len(op_names), dtype=torch.float64), dim=-1)
        edge.aux_scale = 0.3
        mixture = sum(w * op(x) for w, op, name in zip(weights, edge.ops, op_names) if name != "none")
        torch.testing.assert_close(edge(x, weights, None), 0.3 * edge.aux(x) + mixture, rtol=0, atol=1e-12)
        if stride == 1:
            torch.testing.assert_close(edge.aux(x), x, rtol=0, atol=0)


def test_the_derived_cell_never_holds_the_auxiliary_skip(loaders):
    """The op tables are the space's (no column for the auxiliary skip) and the cell is their arg-max even while
    the auxiliary skip has weight 1 on every edge.  Break seen failing: the auxiliary skip counted in the derived
    cell (beta_aux added to each edge's skip_connect probability before the arg-max)."""
    task = make_task("darts-minus", loaders)
    task.start_epoch(0, 3)
    assert task.aux_scale == 1.0 and [list(ops) for ops in task.supernet.op_lists] == [list(OP_NAMES)]
    assert [tuple(a.shape) for a in task.arch_parameters] == [(6, len(OP_NAMES))]
    with torch.no_grad():  # skip_connect weakest everywhere, conv 3x3 strongest
        task.arch_parameters[0].copy_(torch.tensor([[0.0, -5.0, 1.0, 2.0, 0.5]] * 6))
    record = task.describe_arch()
    assert record["arch"] == str(Arch((3,) * 6)) and record["skip_fraction"] == 0.0


def darts_minus_names(fused) -> dict:
    """The fused supernet's parameter names -> the per-edge (AuxSkipEdge) supernet's names of the same weights."""
    return {name: re.sub(r"\.edges\.(\d+)\.", r".edges.\1.ops.", ref) for name, ref in per_op_names(fused).items()}


def test_with_the_coefficient_at_zero_it_is_darts_v1_step_for_step(loaders):
    """Two epochs of 4 steps from the same weights, float64: every parameter and every momentum buffer after every
    step equals DARTS-V1's; with the default coefficient the first step already differs (the check has teeth).
    Breaks seen failing: the edge's softmax weights replaced by 1/K; the coefficient kept at 0.5."""
    reference = make_task("darts-v1", loaders)
    names = darts_minus_names(reference.supernet)
    per_op = dict(per_op_copy(reference.supernet).named_parameters())
    start = {name: per_op[ref] for name, ref in zip(names.values(), per_op_names(reference.supernet).values())}
    tasks = {}
    for start_value in (0.0, 1.0):
        task = make_task("darts-minus", loaders, aux_skip_start=start_value)
        params = dict(task.supernet.named_parameters())
        assert set(params) == set(start)
        with torch.no_grad():
            for name, value in start.items():
                params[name].copy_(value)
        tasks[start_value] = task
    by_name = dict(reference.supernet.named_parameters())
    twin_of = {name: by_name[fused] for fused, name in names.items()}
    for epoch in range(2):
        for task in (reference, *tasks.values()):
            task.start_epoch(epoch, 2)
        for k, batch in enumerate(loaders.search):
            for task in (reference, *tasks.values()):
                task.train_step(batch, epoch, k / STEPS)
            for name, param in tasks[0.0].supernet.named_parameters():
                want = twin_of[name]
                torch.testing.assert_close(param, want, rtol=1e-9, atol=1e-12, msg=lambda m: f"{name}: {m}")
                buffer = tasks[0.0].w_optimizer.state.get(param, {}).get("momentum_buffer")
                want_buffer = reference.w_optimizer.state.get(want, {}).get("momentum_buffer")
                assert (buffer is None) == (want_buffer is None), name
                if buffer is not None:
                    torch.testing.assert_close(buffer, want_buffer, rtol=1e-9, atol=1e-12)
            if epoch == 0 and k == 0:
                assert not torch.allclose(tasks[1.0].arch_parameters[0], reference.arch_parameters[0], rtol=1e-6)


def test_a_negative_start_is_a_one_line_config_error():
    with pytest.raises(ConfigError, match=r"aux_skip_start must be >= 0"):
        algorithm_config("darts-minus", aux_skip_start=-1.0)
