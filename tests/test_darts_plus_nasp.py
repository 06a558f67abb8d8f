"""DARTS+ (early stopping) and NASP (proximal iterations, 8 and 12 ops) on the one search task."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from autodl.algorithms import algorithm_config, create_algorithm
from autodl.algorithms.oneshot.darts_plus import EarlyStopping, learnable_ranking, skip_count
from autodl.algorithms.oneshot.nasp import op_costs, prox_one_hot
from autodl.algorithms.oneshot.run import run_search, supernet_config
from autodl.config import OptimConfig, SearchConfig
from autodl.data.search import get_search_loaders
from autodl.errors import ConfigError
from autodl.models import create_model
from autodl.models.ops import build_op
from autodl.spaces.artifact import load_artifact
from autodl.models.mixed import MixedEdge
from autodl.spaces.nasnet import DARTS_SEARCH_OPS, NASP_NORMAL_OPS, NASP_REDUCE_OPS, SEARCH_OP_SETS, Genotype
from autodl.spaces.nb201 import Arch

ROOT = Path(__file__).resolve().parents[1]
CPU = torch.device("cpu")
OPTIM = OptimConfig(epochs=3, LR=0.025, eta_min=0.001, momentum=0.9, nesterov=True, decay=5e-4)


def genotype(normal_ops):
    nodes = [[(normal_ops[2 * i], 0), (normal_ops[2 * i + 1], 1)] for i in range(4)]
    reduce = [[("max_pool_3x3", 0), ("skip_connect", 1)] for _ in range(4)]
    return Genotype(normal=nodes, normal_concat=[2, 3, 4, 5], reduce=reduce, reduce_concat=[2, 3, 4, 5])


# ------------------------------------------------------------------------------ DARTS+ criteria
def test_skip_criterion_counts_the_normal_cell_only_and_triggers_at_the_limit():
    one_skip = genotype(["skip_connect"] + ["sep_conv_3x3"] * 7)
    two_skips = genotype(["skip_connect", "sep_conv_3x3", "skip_connect"] + ["sep_conv_3x3"] * 5)
    assert skip_count(one_skip) == 1 and skip_count(two_skips) == 2  # the reduce cell's 4 skips do not count
    assert skip_count(Arch.from_str("|skip_connect~0|+|skip_connect~0|none~1|+|nor_conv_3x3~0|none~1|none~2|")) == 2
    stopping = EarlyStopping(skip_limit=2, rank_patience=10)
    assert stopping.update(0, one_skip, [[[1]]]) is None
    reason = stopping.update(1, two_skips, [[[2]]])
    assert reason == "the derived cell holds 2 skip connections (limit 2)" and stopping.stopped == (1, reason)
    assert stopping.update(2, one_skip, [[[3]]]) == reason  # stays stopped


def test_rank_criterion_triggers_after_exactly_patience_stable_epochs_and_resets_on_change():
    cell = genotype(["sep_conv_3x3"] * 8)
    stopping = EarlyStopping(skip_limit=2, rank_patience=3)
    rankings = [[[[2, 3]]], [[[3, 2]]], [[[3, 2]]], [[[3, 2]]], [[[2, 3]]], [[[2, 3]]], [[[2, 3]]], [[[2, 3]]]]
    reasons = [stopping.update(epoch, cell, ranking) for epoch, ranking in enumerate(rankings)]
    # stable counts: 0, 0, 1, 2, 0 (changed), 1, 2, 3 -> stops at epoch 7, not at the earlier run of 2
    assert reasons[:7] == [None] * 7 and reasons[7].startswith("the ranking of the learnable ops' parameters was stable for 3")
    restored = EarlyStopping(2, 3)
    restored.load_state_dict(json.loads(json.dumps(stopping.state_dict())))
    assert restored.stopped == stopping.stopped and restored.ranking == stopping.ranking


def test_learnable_ranking_orders_only_the_convolutions():
    alpha = torch.zeros(2, len(DARTS_SEARCH_OPS))
    alpha[0] = torch.tensor([9.0, 8.0, 0.1, 0.4, 0.3, 0.2, 7.0, 6.0])  # none/skip/pools are large but not learnable
    alpha[1] = torch.tensor([0.0, 0.0, 0.5, 0.5, 0.9, 0.1, 0.0, 0.0])
    assert learnable_ranking([alpha], [DARTS_SEARCH_OPS]) == [[[3, 4, 5, 2], [4, 2, 3, 5]]]
    # one op list per table: NASP(12ops)'s reduction cells have no convolution to rank
    reduce = torch.rand(2, len(NASP_REDUCE_OPS))
    assert learnable_ranking([alpha, reduce], [DARTS_SEARCH_OPS, NASP_REDUCE_OPS])[1] == [[], []]


def test_darts_plus_stops_early_records_why_and_a_resumed_run_trains_no_more(tmp_path):
    # an architecture rate of 1e-9 cannot reorder parameters drawn at 1e-3 scale: the ranking is stable
    search = algorithm_config("darts+-v1", channel=2, num_cells=1, arch_LR=1e-9, stop_rank_patience=1)
    kwargs = dict(seed=1, batch_size=256, test_batch_size=512, device="cpu", progress=False, echo=False)
    result = run_search("darts+-v1", OPTIM, search, "digits16", tmp_path / "run", **kwargs)
    assert [r["rank_stable_epochs"] for r in result.history] == [0, 1]
    assert "stop_reason" not in result.history[0] and result.history[1]["stop_reason"].startswith("the ranking")
    artifact = load_artifact(result.artifact)
    assert artifact.extra["stop_epoch"] == 1 and artifact.extra["epochs"] == 2
    assert artifact.extra["stop_reason"] == result.history[1]["stop_reason"]
    again = run_search("darts+-v1", OPTIM, search, "digits16", tmp_path / "run", **kwargs)
    assert len(again.history) == 2 and str(again.arch) == str(result.arch)
    assert "stopped early after epoch 2/3" in (tmp_path / "run" / "log.txt").read_text()


# ------------------------------------------------------------------------------------- NASP
def test_prox_one_hot_keeps_each_rows_largest_entry():
    alpha = torch.tensor([[0.2, 0.7, 0.1], [0.5, 0.5, 0.0]])
    assert prox_one_hot(alpha).tolist() == [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]


def test_op_costs_are_relative_parameter_counts():
    costs = op_costs(DARTS_SEARCH_OPS, 8)
    counts = [sum(p.numel() for p in build_op(name, 8, 8, 1).parameters()) for name in DARTS_SEARCH_OPS]
    assert costs[0] == 0 and costs.max() == 1 and costs[1] == 0 and costs[6] == 0
    assert costs[3] == pytest.approx(counts[3] / max(counts))


@pytest.fixture(scope="module")
def loaders():
    return get_search_loaders("digits16", batch_size=32, test_batch_size=120, workers=0)


def nasp_task(loaders, space, name="nasp", **search):
    torch.manual_seed(0)
    config = algorithm_config(name, space=space, channel=2, num_cells=1, **search)
    return create_algorithm(name, create_model(supernet_config(name, config, 10)), loaders, OPTIM, config, CPU, seed=0)


@pytest.mark.parametrize("space, name", [("nas-bench-201", "nasp"), ("darts", "nasp"), ("darts", "nasp-12ops")])
def test_nasp_step_is_the_proximal_update_of_the_gradient_at_the_discrete_architecture(space, name, loaders):
    task = nasp_task(loaders, space, name, complexity_weight=0.5)
    with torch.no_grad():
        for alpha in task.arch_parameters:
            alpha.copy_(torch.rand_like(alpha))
    task.a_optimizer = torch.optim.SGD(task.arch_parameters, lr=1.0)  # A <- clip(A - grad): the bare proximal step
    inputs, targets, arch_inputs, arch_targets = next(iter(task.train_loader))
    before = [alpha.detach().clone() for alpha in task.arch_parameters]
    onehots = [prox_one_hot(a).requires_grad_() for a in before]
    loss = task.criterion(task.forward(arch_inputs, onehots), arch_targets)
    expected_grads = torch.autograd.grad(loss, onehots)
    task.search_step(inputs, targets, arch_inputs, arch_targets)
    for alpha, old, grad, costs in zip(task.arch_parameters, before, expected_grads, task.costs):
        expected = (old - (grad + 0.5 * costs)).clamp(0, 1)
        torch.testing.assert_close(alpha.detach(), expected, rtol=1e-5, atol=1e-6)
        assert 0 <= alpha.min() and alpha.max() <= 1


def test_nasp_weight_step_runs_only_the_selected_op_of_each_edge(loaders):
    task = nasp_task(loaders, "darts")
    calls: dict[tuple[int, int], int] = {}
    for c, cell in enumerate(task.supernet.cells):
        for e, edge in enumerate(cell.edges):
            for k, op in enumerate(edge.ops):
                op.register_forward_hook(lambda *_, key=(c, e, k): calls.__setitem__(key, calls.get(key, 0) + 1))
    batch = next(iter(task.train_loader))
    task.search_step(*batch)  # arch step (every op, weighted by the one-hot) then weight step (one op per edge)
    after = task.discrete()[1]  # the weight step uses the discrete architecture after the update
    for c, cell in enumerate(task.supernet.cells):
        selected = after[1 if cell.reduction else 0]
        for e in range(len(cell.edges)):
            for k in range(1, len(DARTS_SEARCH_OPS)):
                assert calls.get((c, e, k), 0) == 1 + (k == selected[e]), (c, e, k)
            assert calls.get((c, e, 0), 0) == 0  # `none` is never computed


# ------------------------------------------------------------------------------- 12-op space
def test_the_12_op_lists_are_the_authors_per_cell_type_lists():
    # genotypes.py of xujinfan/NASP-codes, in its order ("conv 1x1"/"conv 3x3" are ReLU-conv-BN: nor_conv_*)
    assert NASP_NORMAL_OPS == ("skip_connect", "conv_3x1_1x3", "dil_conv_3x3", "nor_conv_1x1", "nor_conv_3x3",
                               "sep_conv_3x3", "sep_conv_5x5", "sep_conv_7x7")
    assert NASP_REDUCE_OPS == ("skip_connect", "avg_pool_3x3", "max_pool_3x3", "max_pool_5x5", "max_pool_7x7")
    assert SEARCH_OP_SETS["nasp-12ops"] == (NASP_NORMAL_OPS, NASP_REDUCE_OPS)
    assert SEARCH_OP_SETS["default"] == (DARTS_SEARCH_OPS, DARTS_SEARCH_OPS)
    assert len(set(NASP_NORMAL_OPS) | set(NASP_REDUCE_OPS)) == 12


@pytest.mark.parametrize("name", sorted(set(NASP_NORMAL_OPS) | set(NASP_REDUCE_OPS)))
@pytest.mark.parametrize("stride", [1, 2])
def test_every_12_op_builds_with_the_right_output_shape(name, stride):
    out = build_op(name, 6, 6, stride, affine=False)(torch.randn(2, 6, 9, 9))
    assert out.shape == (2, 6, 5 if stride == 2 else 9, 5 if stride == 2 else 9)


def test_the_12_op_supernet_builds_each_cell_type_over_its_own_list():
    net = create_model({"name": "search.nasnet", "C": 2, "N": 1, "num_classes": 10, "op_set": "nasp-12ops"})
    assert net.op_lists == (NASP_NORMAL_OPS, NASP_REDUCE_OPS)
    assert [tuple(a.shape) for a in net.arch_parameters()] == [(14, 8), (14, 5)]
    assert [cell.reduction for cell in net.cells] == [False, True, True]
    for cell in net.cells:
        names, C = NASP_REDUCE_OPS if cell.reduction else NASP_NORMAL_OPS, cell.out_channels // 4
        for edge in cell.edges:
            expected = [build_op(name, C, C, edge.stride, False, False) for name in names]
            assert [repr(op) for op in edge.ops] == [repr(op) for op in expected]
    # without `none`, op 0 (skip_connect) is computed like any other
    edge = MixedEdge(2, 1, False, NASP_NORMAL_OPS)
    inputs = torch.randn(1, 2, 4, 4)
    assert edge.zero is None and torch.equal(edge(inputs, None, 0), inputs)
    assert MixedEdge(2, 1, False, DARTS_SEARCH_OPS)(inputs, None, 0) is None


def test_the_12_op_supernet_searches_and_its_genotype_builds_an_inference_network(loaders):
    task = nasp_task(loaders, "darts", name="nasp-12ops")
    assert task.config.op_set == "nasp-12ops"
    assert [tuple(a.shape) for a in task.arch_parameters] == [(14, 8), (14, 5)]
    assert task.supernet.op_lists == (NASP_NORMAL_OPS, NASP_REDUCE_OPS)
    assert [len(c) for c in task.costs] == [8, 5] and not task.costs[1].any()  # the reduce ops have no parameters
    with torch.no_grad():
        task.arch_parameters[0][:, NASP_NORMAL_OPS.index("conv_3x1_1x3")] = 1.0
        task.arch_parameters[1][:, NASP_REDUCE_OPS.index("max_pool_7x7")] = 1.0
    task.search_step(*next(iter(task.train_loader)))
    arch = task.current_arch()
    assert all(op == "conv_3x1_1x3" for node in arch.normal for op, _ in node)
    assert all(op == "max_pool_7x7" for node in arch.reduce for op, _ in node)
    task.arch_parameters[1].data.uniform_(0.0, 1.0)
    assert {op for node in task.current_arch().reduce for op, _ in node} <= set(NASP_REDUCE_OPS)
    net = create_model({"name": "nasnet-cifar", "genotype": arch.to_dict(), "C": 4, "N": 1, "num_classes": 10,
                        "auxiliary": False})
    assert net(torch.randn(2, 3, 32, 32))[1].shape == (2, 10)


def test_the_12_op_set_is_refused_on_the_nb201_space():
    with pytest.raises(ConfigError, match="op_set='nasp-12ops' is an op list of the DARTS space"):
        SearchConfig(space="nas-bench-201", op_set="nasp-12ops")


# ----------------------------------------------------------------- entry point and retraining
@pytest.mark.slow
@pytest.mark.parametrize("algorithm", ["darts+-v1", "nasp", "nasp-12ops"])
def test_a_new_algorithm_searches_an_epoch_on_digits_and_its_artifact_retrains(algorithm, tmp_path):
    search = subprocess.run([sys.executable, str(ROOT / "exps" / "search-cell.py"), "--algo", algorithm, "--space", "darts",
                             "--dataset", "digits", "--epochs", "1", "--channel", "2", "--num-cells", "1",
                             "--batch-size", "256", "--test-batch-size", "512", "--seed", "1", "--quiet", "--device", "cpu",
                             "--save-dir", str(tmp_path / "search")], capture_output=True, text=True, timeout=600)
    assert search.returncode == 0, search.stderr[-2000:]
    artifact = load_artifact(tmp_path / "search" / "result.json")
    assert artifact.algorithm == algorithm and isinstance(artifact.arch, Genotype)
    retrain = subprocess.run([sys.executable, str(ROOT / "exps" / "train-searched.py"), "--arch",
                              str(tmp_path / "search" / "result.json"), "--C", "2", "--N", "1", "--dataset", "digits",
                              "--epochs", "1", "--warmup", "0", "--batch-size", "256", "--seed", "1", "--quiet",
                              "--device", "cpu", "--save-dir", str(tmp_path / "retrain")],
                             capture_output=True, text=True, timeout=600)
    assert retrain.returncode == 0, retrain.stderr[-2000:]
    config = json.loads((tmp_path / "retrain" / "config.json").read_text())
    assert Genotype.from_dict(config["model"]["genotype"]) == artifact.arch
