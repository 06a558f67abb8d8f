"""The source-grouped NB201 supernet (SearchCell) against the per-op reference (PerOpSearchCell):
outputs, gradients of the weights and of the architecture weights, and running statistics, in the
weighted, indices-only and GDAS modes; and in the GDAS mode only the selected ops run.

The equivalence runs in float64, where the two formulations agree to ~1e-12 and the 1e-5 bound tests
the formulation itself; a float32 run (the real one: NHWC oneDNN convolutions on the CPU) checks the
logits to 1e-5 and the gradients to float32 rounding amplified by the tiny batches' batch norms."""
import re

import pytest
import torch
import torch.nn.functional as F

from autodl.algorithms.oneshot.gdas import gumbel_hard
from autodl.errors import ConfigError
from autodl.models.supernet_nb201 import (CONV1, CONV3, EdgeCell, NB201SuperNet, PerOpSearchCell, SearchCell,
                                          per_op_copy, per_op_names)
from autodl.spaces.nb201 import EDGES

TOL = dict(rtol=0, atol=1e-5)
FLOAT32_GRAD_TOL = dict(rtol=1e-3, atol=1e-4)
C, N = 3, 1
# none=0 skip=1 conv1x1=2 conv3x3=3 pool=4; edges (1<-0) (2<-0) (2<-1) (3<-0) (3<-1) (3<-2)
ARCHS = [
    [3, 3, 2, 3, 2, 4],  # source 0: conv3 on slots 0, 1 and 2 (adjacent)
    [3, 1, 3, 3, 2, 2],  # source 0: conv3 on slots 0 and 2 (not adjacent)
    [2, 2, 0, 2, 3, 1],  # source 0: conv1 everywhere
    [0, 4, 1, 0, 0, 3],  # node 1 has only `none` in: zeros
    [1, 1, 1, 4, 4, 4],  # no convolution in the cells
    [0, 0, 0, 0, 0, 0],  # all none
]


def make_pair(track: bool, seed: int = 0, dtype=torch.float64):
    torch.manual_seed(seed)
    net = NB201SuperNet(C, N, num_classes=5, track_running_stats=track).to(dtype)
    with torch.no_grad():
        net.arch.normal_()
    return net, per_op_copy(net).to(dtype)


def stats_pairs(net: NB201SuperNet, reference: NB201SuperNet):
    """(fast running-stat tensor slice, reference BN module buffer) of every search-cell conv."""
    for k, cell in enumerate(net.cells):
        if not isinstance(cell, SearchCell) or not cell.track:
            continue
        for j, out in enumerate(cell.out_edges):
            for kind, op in (("bn1x1", CONV1), ("bn3x3", CONV3)):
                for slot, e in enumerate(out):
                    bn = reference.cells[k].edges[e][op].op[2]
                    part = slice(slot * cell.C, (slot + 1) * cell.C)
                    yield getattr(cell, f"{kind}_{j}_mean")[part], bn.running_mean
                    yield getattr(cell, f"{kind}_{j}_var")[part], bn.running_var


def run(model, inputs, mode, arch, generator_seed=0):
    """Forward + backward of a weighted sum of the logits; returns the logits and the arch gradient."""
    model.zero_grad(set_to_none=True)
    alpha = model.arch
    if mode == "weighted":
        weights, indices = [F.softmax(alpha, dim=-1)], None
    elif mode == "indices":
        weights, indices = None, [arch]
    else:  # gdas: a straight-through one-hot with the given selection
        probs = F.softmax(alpha / 0.7, dim=-1)
        hard = F.one_hot(torch.tensor(arch), 5).to(probs.dtype) - probs.detach() + probs
        weights, indices = [hard], [arch]
    logits = model(inputs, weights=weights, indices=indices)[1]
    (logits * torch.linspace(-1, 1, logits.numel(), dtype=logits.dtype).view_as(logits)).sum().backward()
    return logits.detach(), None if alpha.grad is None else alpha.grad.clone()


def assert_same_gradients(net, reference, tol=TOL, names=None):
    """Every weight gradient of ``net`` equals its twin's in ``reference`` (``names``: net's parameter name ->
    the reference's, default the per-op copy's), and both or neither exist."""
    ref_params, names = dict(reference.named_parameters()), names or per_op_names(net)
    for name, param in net.named_parameters():
        if name == "arch":
            continue
        ref_name = names[name]
        got, want = param.grad, ref_params[ref_name].grad
        assert (got is None) == (want is None), f"{name}: a gradient on one side only"  # ops that did not run
        if got is not None:
            torch.testing.assert_close(got, want, **tol, msg=lambda m: f"{name} vs {ref_name}: {m}")


@pytest.mark.parametrize("track", [False, True])
@pytest.mark.parametrize("mode", ["weighted", "indices", "gdas"])
def test_grouped_cell_equals_the_per_op_reference(track, mode):
    net, reference = make_pair(track)
    inputs = torch.randn(4, 3, 8, 8, dtype=torch.float64)
    archs = ARCHS if mode != "weighted" else ARCHS[:3]  # weighted: the arch only varies the step
    for training in (True, False):
        net.train(training)
        reference.train(training)
        for arch in archs:
            logits, arch_grad = run(net, inputs, mode, arch)
            want_logits, want_arch_grad = run(reference, inputs, mode, arch)
            torch.testing.assert_close(logits, want_logits, **TOL)
            assert_same_gradients(net, reference)
            if mode == "indices":
                assert arch_grad is None and want_arch_grad is None
            else:
                torch.testing.assert_close(arch_grad, want_arch_grad, **TOL)
    if track:  # the running statistics after the training forwards above, every edge's BN
        for got, want in stats_pairs(net, reference):
            torch.testing.assert_close(got, want, **TOL)


def test_running_statistics_follow_sgd_steps_alike():
    net, reference = make_pair(True, seed=1)
    generator = torch.Generator().manual_seed(0)
    # the search recipes' SGD (momentum and weight decay, which also move ops that ran before but not now)
    optimizers = [torch.optim.SGD(m.weight_parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
                  for m in (net, reference)]
    for step in range(4):
        inputs, targets = torch.randn(4, 3, 8, 8, dtype=torch.float64), torch.randint(0, 5, (4,))
        hard, index = gumbel_hard(net.arch, 1.0, generator)
        choices = [dict(weights=[F.softmax(net.arch, -1).detach()]), dict(indices=[index]),
                   dict(weights=[hard.detach()], indices=[index])]
        for model, optimizer in zip((net, reference), optimizers):
            optimizer.zero_grad(set_to_none=False)
            F.cross_entropy(model(inputs, **choices[(step + 1) % 3])[1], targets).backward()
            optimizer.step()
    for got, want in stats_pairs(net, reference):
        torch.testing.assert_close(got, want, **TOL)
    net.eval()
    reference.eval()
    inputs = torch.randn(4, 3, 8, 8, dtype=torch.float64)
    torch.testing.assert_close(net(inputs, indices=[ARCHS[1]])[1], reference(inputs, indices=[ARCHS[1]])[1], **TOL)


@pytest.mark.parametrize("mode", ["weighted", "indices", "gdas"])
def test_float32_logits_and_gradients(mode):
    net, reference = make_pair(True, dtype=torch.float32)
    inputs = torch.randn(4, 3, 8, 8)
    for arch in ARCHS[:4]:
        logits, arch_grad = run(net, inputs, mode, arch)
        want_logits, want_arch_grad = run(reference, inputs, mode, arch)
        torch.testing.assert_close(logits, want_logits, **TOL)
        assert_same_gradients(net, reference, FLOAT32_GRAD_TOL)
        if mode != "indices":
            torch.testing.assert_close(arch_grad, want_arch_grad, **FLOAT32_GRAD_TOL)


@pytest.mark.parametrize("arch", ARCHS)
def test_gdas_mode_runs_only_the_selected_ops(arch, monkeypatch):
    net, _ = make_pair(False, dtype=torch.float32)
    widths = []
    real = F.conv2d

    def counting(inputs, weight, *args, **kwargs):
        widths.append((weight.shape[0], weight.shape[-1]))
        return real(inputs, weight, *args, **kwargs)

    monkeypatch.setattr(F, "conv2d", counting)
    inputs = torch.randn(2, 3, 8, 8)
    net(inputs, indices=[[1] * 6])  # no cell conv: the stem and the reductions
    base = list(widths)
    widths.clear()
    hard = F.one_hot(torch.tensor(arch), 5).float().requires_grad_()
    net(inputs, weights=[hard], indices=[arch])[1].sum().backward()
    extra = list(widths)
    for shape in base:
        extra.remove(shape)
    cells = [cell for cell in net.cells if isinstance(cell, SearchCell)]
    want = {k: sum(cell.C for cell in cells for op in arch if op == (CONV1 if k == 1 else CONV3)) for k in (1, 3)}
    assert {k: sum(w for w, kk in extra if kk == k) for k in (1, 3)} == want  # output channels convolved
    for cell in cells:
        for params, op in ((cell.conv1x1, CONV1), (cell.conv3x3, CONV3)):
            for e, param in enumerate(params):  # an op that did not run has no gradient at all
                assert (param.grad is not None and param.grad.abs().sum() > 0) if arch[e] == op else param.grad is None
    # a selected `none` adds nothing and gets no gradient (the other weights' are compared with the reference)
    assert not hard.grad[torch.arange(6), torch.tensor(arch)][torch.tensor(arch) == 0].any()


def test_per_op_cell_holds_the_same_weights():
    net, reference = make_pair(False)
    cell, per_op = net.cells[0], reference.cells[0]
    assert isinstance(per_op, PerOpSearchCell)
    for e in range(len(EDGES)):
        assert torch.equal(per_op.edges[e][CONV3].op[1].weight, cell.conv3x3[e])
        assert torch.equal(per_op.edges[e][CONV1].op[1].weight, cell.conv1x1[e])

@pytest.mark.parametrize("track", [False, True])
def test_search_cell_state_dict_layout(track):
    cell = SearchCell(4, track)
    keys = {f"{kind}.{e}" for kind in ("conv1x1", "conv3x3") for e in range(6)}  # one weight per edge
    if track:  # the BN statistics stay stacked per source node: [edge 0 | edge 1 | ...]
        keys |= {f"{kind}_{j}_{stat}" for kind in ("bn1x1", "bn3x3") for j in range(3) for stat in ("mean", "var")}
    assert set(cell.state_dict()) == keys
    assert cell.conv3x3[0].shape == (4, 4, 3, 3) and cell.conv1x1[5].shape == (4, 4, 1, 1)
    assert cell.bn3x3_0_mean is None if not track else cell.bn3x3_0_mean.shape == (12,)


def edge_cell_copy(net: NB201SuperNet):
    """``net`` rebuilt from :class:`EdgeCell` (one MixedEdge per edge) with the same weights, and the map from
    ``net``'s parameter names to the copy's."""
    names = {fused: re.sub(r"\.edges\.(\d+)\.", r".edges.\1.ops.", ref) for fused, ref in per_op_names(net).items()}
    per_op = dict(per_op_copy(net).named_parameters())
    copy = NB201SuperNet(net.C, net.N, net.num_classes, cell=EdgeCell).to(net.arch.dtype)
    targets = dict(copy.named_parameters())
    with torch.no_grad():
        for fused, ref in per_op_names(net).items():
            targets[names[fused]].copy_(per_op[ref])
    return copy, names


@pytest.mark.parametrize("mode", ["weighted", "indices", "gdas"])
def test_the_mixed_edge_cell_computes_what_the_fused_cell_computes(mode):
    """The replaceable per-edge cell (a relaxation variant's base) against the fused cell: logits, every
    gradient, and which weights get one (ops that did not run: none), float64."""
    net, _ = make_pair(False)
    edge_net, names = edge_cell_copy(net)
    assert len(list(edge_net.parameters())) == len(list(net.parameters()))
    inputs = torch.randn(4, 3, 8, 8, dtype=torch.float64)
    for training in (True, False):
        net.train(training)
        edge_net.train(training)
        for arch in ARCHS:
            logits, arch_grad = run(net, inputs, mode, arch)
            want_logits, want_arch_grad = run(edge_net, inputs, mode, arch)
            torch.testing.assert_close(logits, want_logits, **TOL)
            assert_same_gradients(net, edge_net, names=names)
            assert (arch_grad is None) == (want_arch_grad is None)
            if arch_grad is not None:
                torch.testing.assert_close(arch_grad, want_arch_grad, **TOL)


def test_a_cells_extra_architecture_tensors_are_held_by_the_supernet_and_passed_by_name():
    class Scaled(EdgeCell):
        extra_arch_shapes = {"edge_logits": (6,)}

        def edge_scales(self, edge_logits):
            return 2 * torch.sigmoid(edge_logits)

    net = NB201SuperNet(2, 1, 5, cell=Scaled).double()
    extra = net.extra_arch_parameters()["edge_logits"]
    assert tuple(extra.shape) == (6,) and all(p is not extra for p in net.weight_parameters())
    assert "arch_extra.edge_logits" in net.state_dict()
    inputs = torch.randn(2, 3, 8, 8, dtype=torch.float64)
    weights = [F.softmax(net.arch, -1)]
    net(inputs, weights=weights, edge_logits=extra)[1].sum().backward()
    assert extra.grad is not None and extra.grad.abs().sum() > 0
    with torch.no_grad():
        extra.zero_()  # scales 1: the plain cell's value
    plain = NB201SuperNet(net.C, net.N, net.num_classes, cell=EdgeCell).double()
    plain.load_state_dict({k: v for k, v in net.state_dict().items() if not k.startswith("arch_extra")})
    torch.testing.assert_close(net(inputs, weights=weights, edge_logits=extra)[1], plain(inputs, weights=weights)[1])
    with pytest.raises(ConfigError, match=r"take the architecture inputs \['edge_logits'\]; got none"):
        net(inputs, weights=weights)
