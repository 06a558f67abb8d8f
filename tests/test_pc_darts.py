"""PC-DARTS's defining mechanisms: with K = 1 and no edge normalisation it is DARTS-V1 step for step; with
K > 1 only 1/K of an edge's channels go through its ops and the rest bypass them (max-pooled on stride-2
edges) in the shuffled order; each node weights its edges by a softmax over its betas, which get a gradient
and enter the derivation; the architecture is frozen during the warm-up epochs."""
import pytest
import torch
import torch.nn.functional as F

from autodl.algorithms import algorithm_config, create_algorithm
from autodl.algorithms.oneshot.pc_darts import PartialChannelEdge
from autodl.algorithms.oneshot.run import supernet_config
from autodl.config import OptimConfig
from autodl.data.search import SearchLoaders, get_search_loaders
from autodl.errors import ConfigError
from autodl.models import create_model
from autodl.models.supernet_nb201 import EdgeCell, NB201SuperNet
from autodl.spaces.nasnet import DARTS_SEARCH_OPS
from autodl.spaces.nb201 import EDGES, OP_NAMES

from test_search import derive_by_hand

CPU = torch.device("cpu")
OPTIM = OptimConfig(epochs=1, LR=0.05, momentum=0.9, nesterov=True, decay=5e-4)
STEPS = 4


@pytest.fixture(scope="module")
def loaders():
    """The first batches of the digits search loaders in float64 (lists, so every run sees the same ones)."""
    real = get_search_loaders("digits16", batch_size=16, test_batch_size=60, workers=0)
    return SearchLoaders(*([[t.double() if t.is_floating_point() else t for t in batch]
                            for batch, _ in zip(loader, range(STEPS))] for loader in real[:3]))


def make_task(name, space, loaders, supernet=None, **settings):
    torch.manual_seed(0)
    search = algorithm_config(name, space=space, channel=4, num_cells=1, **settings)
    net = (supernet or create_model(supernet_config(name, search, 10))).double()
    return create_algorithm(name, net, loaders, OPTIM, search, CPU, seed=0)


def train(task, epoch=0, epochs=1):
    task.start_epoch(epoch, epochs)
    for k, batch in enumerate(task.train_loader):
        task.train_step(batch, epoch, k / STEPS)
    return {n: p.detach().clone() for n, p in task.supernet.named_parameters()}


@pytest.mark.parametrize("space", ["nas-bench-201", pytest.param("darts", marks=pytest.mark.slow)])
def test_k1_without_edge_normalisation_is_darts_v1_step_for_step(space, loaders):
    """Same seed, same batches, float64: every weight and architecture parameter after each step equals
    DARTS-V1's on the per-edge cell (the fused NB201 cell equals that one, tests/test_supernet_nb201.py)."""
    torch.manual_seed(0)
    plain = NB201SuperNet(4, 1, 10, cell=EdgeCell) if space == "nas-bench-201" else None
    darts = make_task("darts-v1", space, loaders, supernet=plain)
    pc = make_task("pc-darts", space, loaders, partial_channels=1, edge_normalisation=False)
    assert not pc.supernet.extra_arch_parameters()
    for task in (darts, pc):
        task.start_epoch(0, 1)
    for k, batch in enumerate(loaders.search):
        for task in (darts, pc):
            task.train_step(batch, 0, k / STEPS)
        want = dict(darts.supernet.named_parameters())
        got = dict(pc.supernet.named_parameters())
        assert set(got) == set(want)
        for name, value in got.items():
            assert torch.equal(value, want[name]), f"step {k}: {name} differs"
    assert not torch.equal(darts.arch_parameters[0], make_task("darts-v1", space, loaders).arch_parameters[0])


def by_hand_edge(edge, inputs, weights, k):
    """An edge's output worked out from its ops: the ops on the first C/k channels, the bypass of the rest
    (max-pooled 2 x 2 on a stride-2 edge), interleaved so that channel i * k + g is channel i of group g."""
    part = inputs.shape[1] // k
    ops = sum(w * op(inputs[:, :part]) for w, op, name in zip(weights, edge.ops, edge.op_names) if name != "none")
    bypass = inputs[:, part:] if edge.stride == 1 else F.max_pool2d(inputs[:, part:], 2)
    groups = [ops] + list(bypass.split(part, dim=1))
    out = torch.empty(inputs.shape[0], inputs.shape[1], *ops.shape[2:], dtype=inputs.dtype)
    for g, group in enumerate(groups):
        out[:, g::k] = group
    return out


@pytest.mark.parametrize("k", [2, 4])
@pytest.mark.parametrize("stride,op_names", [(1, OP_NAMES), (2, DARTS_SEARCH_OPS)])
def test_a_partial_edge_runs_its_ops_on_1_over_k_of_the_channels_and_shuffles_the_bypass(k, stride, op_names):
    torch.manual_seed(0)
    edge = PartialChannelEdge(8, stride, False, op_names, partial_channels=k).double()
    edge.op_names = list(op_names)
    seen = []
    for op in edge.ops:
        op.register_forward_hook(lambda module, args, out: seen.append((args[0].shape[1], out.shape[1])))
    inputs = torch.randn(2, 8, 8, 8, dtype=torch.float64)
    weights = F.softmax(torch.randn(len(op_names), dtype=torch.float64), dim=0)
    out = edge(inputs, weights, None)
    assert seen and all(channels == (8 // k, 8 // k) for channels in seen)  # `none` is never computed
    assert len(seen) == len(op_names) - 1
    torch.testing.assert_close(out, by_hand_edge(edge, inputs, weights, k), rtol=0, atol=0)
    zero = edge(inputs, None, list(op_names).index("none"))  # `none`: its channels zero, the bypass passes
    assert zero.shape == out.shape and torch.equal(zero[:, 0::k], torch.zeros_like(zero[:, 0::k]))
    torch.testing.assert_close(zero[:, 1::k], out[:, 1::k], rtol=0, atol=0)


def test_every_op_of_the_supernet_sees_1_over_k_of_its_edge_channels():
    net = create_model({"name": "search.nasnet-pc-darts", "C": 8, "N": 1, "num_classes": 10,
                        "cell_options": {"partial_channels": 4, "edge_normalisation": True}})
    seen, edge_inputs = [], {}
    for cell in net.cells:
        for edge in cell.edges:
            edge.register_forward_hook(lambda module, args, out: edge_inputs.update({id(module): args[0].shape[1]}))
            for op in edge.ops:
                op.register_forward_hook(lambda module, args, out, e=edge: seen.append((args[0].shape[1], id(e))))
    weights = [F.softmax(a, dim=-1) for a in net.arch_parameters()]
    net(torch.randn(2, 3, 16, 16), weights=weights, **net.extra_arch_parameters())
    assert len(seen) == sum(len(e.ops) - 1 for cell in net.cells for e in cell.edges)  # every op but `none`
    assert sorted(set(edge_inputs.values())) == [8, 16, 32]
    assert all(4 * channels == edge_inputs[edge] for channels, edge in seen)


def test_each_node_weights_its_edges_by_the_softmax_of_its_betas():
    torch.manual_seed(0)
    net = create_model({"name": "search.nb201-pc-darts", "C": 4, "N": 1, "num_classes": 10,
                        "cell_options": {"partial_channels": 2, "edge_normalisation": True}}).double()
    beta = net.extra_arch_parameters()["beta"]
    with torch.no_grad():
        beta.copy_(torch.randn(6, dtype=torch.float64))
    cell = net.cells[0]
    x = torch.randn(2, 4, 8, 8, dtype=torch.float64)
    w = F.softmax(net.arch, dim=-1)
    nodes = [x]
    for to in (1, 2, 3):
        edges = [e for e, (node, _) in enumerate(EDGES) if node == to]
        scales = F.softmax(beta[edges], dim=0)
        nodes.append(sum(s * cell.edges[e](nodes[EDGES[e][1]], w[e], None) for s, e in zip(scales, edges)))
    torch.testing.assert_close(cell(x, w, None, beta=beta), nodes[-1], rtol=1e-12, atol=1e-12)

def test_an_architecture_step_moves_the_betas(loaders):
    task = make_task("pc-darts", "nas-bench-201", loaders, partial_channels=2)
    before = task.supernet.extra_arch_parameters()["beta"].detach().clone()
    task.start_epoch(0, 1)
    task.train_step(loaders.search[0], 0, 0.0)
    after = task.supernet.extra_arch_parameters()["beta"]
    assert after.grad is not None and after.grad[1:].abs().min() > 0  # node 1 has one edge: softmax 1, no gradient
    assert not torch.equal(before, after.detach())


def test_the_nasnet_genotype_ranks_each_nodes_inputs_by_softmax_alpha_times_the_edge_weight(loaders):
    task = make_task("pc-darts", "darts", loaders, partial_channels=2)
    generator = torch.Generator().manual_seed(3)
    extras = task.supernet.extra_arch_parameters()
    with torch.no_grad():
        for p in task.arch_parameters + list(extras.values()):
            p.copy_(2 * torch.randn(p.shape, generator=generator, dtype=p.dtype))
    probs = [F.softmax(a.detach(), dim=-1) for a in task.arch_parameters]
    scales = []
    for name in ("beta_normal", "beta_reduce"):
        beta, start, rows = extras[name].detach(), 0, []
        for n in (2, 3, 4, 5):
            rows.append(F.softmax(beta[start:start + n], dim=0))
            start += n
        scales.append(torch.cat(rows))
    weighted = derive_by_hand([(p * s[:, None]).tolist() for p, s in zip(probs, scales)], task.supernet.op_lists)
    plain = derive_by_hand([p.tolist() for p in probs], task.supernet.op_lists)
    assert weighted != plain  # these draws tell the two rules apart
    assert task.current_arch() == weighted
    record = task.describe_arch()
    torch.testing.assert_close(torch.tensor(record["edge_weights"]), torch.stack(scales).float(), atol=1e-6, rtol=0)


def test_the_architecture_is_frozen_during_the_warm_up_epochs(loaders):
    task = make_task("pc-darts", "nas-bench-201", loaders, partial_channels=2, arch_warmup=1)
    start = train(task, 0, 2)
    arch = {n: v for n, v in start.items() if n.startswith("arch")}
    assert set(arch) == {"arch", "arch_extra.beta"}
    first = make_task("pc-darts", "nas-bench-201", loaders, partial_channels=2, arch_warmup=1)
    assert all(torch.equal(v, dict(first.supernet.named_parameters())[n]) for n, v in arch.items())
    later = train(task, 1, 2)
    assert all(not torch.equal(later[n], v) for n, v in arch.items())


def test_a_k_that_does_not_divide_the_channels_is_one_line():
    with pytest.raises(ConfigError, match=r"partial_channels \(K=4\) must divide channel \(6\)"):
        algorithm_config("pc-darts", channel=6, partial_channels=4)
