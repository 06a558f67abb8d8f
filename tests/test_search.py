"""The weight-sharing searches, tested through the algorithm registry: every registered algorithm on every
space it offers takes real search steps, is deterministic, and resumes exactly after a SIGKILL."""
import dataclasses
import itertools
import re
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from autodl.algorithms import ALGORITHMS, create_algorithm
from autodl.algorithms.oneshot import SearchTask
from autodl.algorithms.oneshot.enas import reinforce_loss
from autodl.algorithms.oneshot.gdas import gumbel_hard
from autodl.algorithms.oneshot.run import load_search_recipe, run_search, supernet_config
from autodl.algorithms.oneshot.setn import top_k_structures
from autodl.algorithms.registry import settings_by_algorithm
from autodl.config import OptimConfig
from autodl.data.search import get_search_loaders
from autodl.models import create_model
from autodl.spaces.artifact import load_artifact
from autodl.spaces.nasnet import Genotype
from autodl.spaces.nb201 import Arch, all_archs

from helpers import Kill, kill_and_resume
from tiny_search import EVERY_EPOCH, cheapest_per_task, fast_steps_cases, tiny_flags, tiny_settings
from warm_python import run_script

ROOT = Path(__file__).resolve().parents[1]
CASES = [(name, space) for name in ALGORITHMS.names() for space in ALGORITHMS.get(name).spaces]
CPU = torch.device("cpu")
OPTIM = OptimConfig(epochs=3, LR=0.025, eta_min=0.001, momentum=0.9, nesterov=True, decay=5e-4)
RUN_FLAGS = ["--batch-size", "96", "--test-batch-size", "180", "--dataset", "digits16", "--device", "cpu"]


@pytest.fixture(scope="module")
def loaders():
    return get_search_loaders("digits16", batch_size=32, test_batch_size=120, workers=0)


def make_task(name, space, loaders, seed=0):
    torch.manual_seed(seed)
    search = tiny_settings(name, space)  # nasp-12ops searches its own op lists
    return create_algorithm(name, create_model(supernet_config(name, search, 10)), loaders, OPTIM, search, CPU, seed=seed)


def two_steps(task):
    task.start_epoch(0, 3)
    batches = iter(task.train_loader)
    return [task.train_step(next(batches), 0, k / 10) for k in range(2)]


def derive_by_hand(tables, op_lists):
    """The cell of per-edge op weights, worked out row by row: NB201 takes each edge's largest weight (``none``
    included); a NASNet cell node keeps its two inputs of largest non-``none`` weight, each with that op."""
    if len(tables) == 1:
        return Arch(tuple(max(range(len(row)), key=lambda k: (row[k], -k)) for row in tables[0]))
    cells = []
    for table, ops in zip(tables, op_lists):
        usable = [k for k, op in enumerate(ops) if op != "none"]
        nodes, first = [], 0
        for node in range(4):
            best = {j: max(usable, key=lambda k: (table[first + j][k], -k)) for j in range(node + 2)}
            inputs = sorted(best, key=lambda j: -table[first + j][best[j]])[:2]
            nodes.append(tuple((ops[best[j]], j) for j in inputs))
            first += node + 2
        cells.append(tuple(nodes))
    return Genotype(cells[0], (2, 3, 4, 5), cells[1], (2, 3, 4, 5))


def own_tables(task) -> bool:
    """Whether ``task`` derives its cell from the base's tables (softmax of its op logits): an algorithm that
    overrides them (PC-DARTS's edge weights, NASP's parameters, DrNAS's Dirichlet mean, ENAS's controller)
    checks its own tables in its own tests."""
    hooks = ("derivation_tables", "arch_probabilities", "softmax_weights")
    return all(getattr(type(task), hook) is getattr(SearchTask, hook) for hook in hooks)


STEP_CASES = [pytest.param(name, space, marks=() if (name, space) in fast_steps_cases(CASES) else pytest.mark.slow)
              for name, space in CASES]


@pytest.mark.parametrize("name,space", STEP_CASES)
def test_two_search_steps_train_the_supernet_and_derive_an_architecture(name, space, loaders):
    task = make_task(name, space, loaders)
    weights = {n: p.detach().clone() for n, p in task.supernet.named_parameters() if not n.startswith("arch")}
    alphas = [a.detach().clone() for a in task.arch_parameters]
    sums = two_steps(task)
    assert all(np.isfinite(float(v)) for step in sums for v in step.values())
    changed = {n for n, p in task.supernet.named_parameters() if n in weights and not torch.equal(weights[n], p)}
    assert {"stem.0.weight", "classifier.weight"} <= changed and any(n.startswith("cells.0.") for n in changed)
    if ALGORITHMS.get(name).task.uses_arch_parameters:
        assert all(not torch.equal(b, a) for b, a in zip(alphas, task.arch_parameters))
        assert {"arch_loss", "arch_top1"} <= set(sums[0])
    else:
        assert all(torch.equal(b, a) for b, a in zip(alphas, task.arch_parameters))
    record = task.end_epoch(0, 3)
    arch = task.current_arch()
    assert isinstance(arch, Arch if space == "nas-bench-201" else Genotype)
    # the recorded distribution is the task's (to its 6 decimals); the base's is softmax(alpha) by hand
    probs = [p.double() for p in task.arch_probabilities()]
    if own_tables(task):
        assert all(torch.allclose(p, F.softmax(a.detach().double(), dim=-1)) for p, a in zip(probs, task.arch_parameters))
    assert all(np.abs(np.array(r) - p.cpu().numpy()).max() <= 1e-6 for r, p in zip(record["arch_probs"], probs))
    if task.selected is not None:  # a selected candidate (SETN, RSPS, ENAS): its own tests check the choice
        expected = task.selected
    else:  # the space's rule, by hand, on the tables the task derives from
        expected = derive_by_hand([t.tolist() for t in task.derivation_tables()], task.supernet.op_lists)
    assert record["arch"] == (str(expected) if isinstance(expected, Arch) else expected.to_dict())
    assert 0.0 <= record["skip_fraction"] <= 1.0 and 0.0 <= record["none_fraction"] <= 1.0
    assert 0.0 < record["arch_entropy"] <= np.log(max(ops for _, ops in task.arch_shapes)) + 1e-6
    assert len(record["arch_probs"]) == len(task.arch_parameters)
    assert isinstance(task.final_arch(), type(arch))


# every algorithm on NB201, and GDAS on the NASNet space, on the fast path; the other NASNet-space cases
# (5-8 s each) run with -m slow
@pytest.mark.parametrize("name,space", [pytest.param(name, space, marks=pytest.mark.slow if space == "darts" and
                                                     name != "gdas" else ()) for name, space in CASES])
def test_a_fixed_seed_repeats_the_steps_exactly(name, space, loaders):
    states = []
    for _ in range(2):
        torch.manual_seed(3)  # the loaders' shuffling and augmentation
        task = make_task(name, space, loaders, seed=5)
        two_steps(task)
        states.append(task.supernet.state_dict())
    assert all(torch.equal(states[0][key], states[1][key]) for key in states[0])


@pytest.mark.parametrize("mode", ["epoch", "sample"])
def test_enas_controller_learns_at_the_epoch_end(mode, loaders, monkeypatch):
    """Two epochs of controller training: every sample's reference baseline is the epoch-start one (the
    original) or the previous sample's (the paper), and the epoch record holds the samples' means."""
    import autodl.algorithms.oneshot.enas as enas

    calls = []

    def recording(log_prob, entropy, accuracy, baseline, weight, decay, mode):
        result = reinforce_loss(log_prob, entropy, accuracy, baseline, weight, decay, mode)
        calls.append(dict(reference=baseline, entropy=float(entropy.detach()), accuracy=accuracy, baseline=result[1],
                          reward=result[2]))
        return result

    monkeypatch.setattr(enas, "reinforce_loss", recording)
    task = make_task("enas", "nas-bench-201", loaders)
    task.config = dataclasses.replace(task.config, controller_baseline=mode)
    before = [p.detach().clone() for p in task.controller.parameters()]
    two_steps(task)
    samples = task.config.controller_train_steps * task.config.controller_num_aggregate
    for epoch in range(2):
        start = task.baseline
        record = task.end_epoch(epoch, 3)
        epoch_calls = calls[epoch * samples:(epoch + 1) * samples]
        for k, call in enumerate(epoch_calls):
            assert call["reward"] == pytest.approx(call["accuracy"] + 1e-4 * call["entropy"], rel=1e-6)  # float32
            want = start if mode == "epoch" else (start if k == 0 else epoch_calls[k - 1]["baseline"])
            assert call["reference"] == want
        assert record["controller_reward"] == pytest.approx(np.mean([c["reward"] for c in epoch_calls]))
        assert record["controller_entropy"] == pytest.approx(np.mean([c["entropy"] for c in epoch_calls]))
        assert record["controller_baseline"] == epoch_calls[-1]["baseline"] == task.baseline
    assert calls[0]["reference"] is None and calls[samples]["reference"] is not None
    assert any(not torch.equal(b, a) for b, a in zip(before, task.controller.parameters()))


# ---------------------------------------------------------------------------------- exact resume
def search_command(name, space, epochs):
    flags = tiny_flags(name, **EVERY_EPOCH)  # DARTS+ must not stop before the kill
    return lambda save_dir: [sys.executable, str(ROOT / "exps" / "search-cell.py"), "--algo", name, "--space", space,
                             "--save-dir", str(save_dir), "--epochs", str(epochs), "--seed", "11", *flags, *RUN_FLAGS]


RESUME_CASES = [pytest.param(name, space, marks=() if (name, space) in cheapest_per_task(CASES) else pytest.mark.slow)
                for name, space in CASES]


@pytest.mark.parametrize("name,space", RESUME_CASES)
def test_a_search_killed_by_sigkill_resumes_to_the_same_trajectory_and_artifact(name, space, tmp_path):
    # ENAS also dies right after a checkpoint and again inside the next epoch; the others inside epoch 1
    kills = [Kill(1), Kill(0, mid_epoch=True)] if name == "enas" else [Kill(1, mid_epoch=True)]
    full_dir, killed_dir = kill_and_resume(search_command(name, space, epochs=2), tmp_path, kills)
    artifacts = [load_artifact(d / "result.json") for d in (full_dir, killed_dir)]
    assert artifacts[0].arch == artifacts[1].arch
    assert artifacts[0].extra["arch_per_epoch"] == artifacts[1].extra["arch_per_epoch"]
    names = {"cell.png", "arch-history.png"} if space == "nas-bench-201" else {"cell-normal.png", "cell-reduce.png",
                                                                                "arch-history.png"}
    assert names <= {p.name for p in killed_dir.iterdir()}


# ----------------------------------------------------------------------------------- DARTS-V2
class SmoothSuperNet(torch.nn.Module):
    """A supernet-shaped model without ReLU kinks: its second derivatives are what finite differences
    see (with ReLUs, central differences at R = 0.01/||v|| also measure the kinks)."""

    space = "nas-bench-201"

    def __init__(self):
        super().__init__()
        self.project = torch.nn.Parameter(0.3 * torch.randn(48, 8))
        self.edges = torch.nn.Parameter(0.5 * torch.randn(6, 5, 8, 8))
        self.head = torch.nn.Parameter(0.5 * torch.randn(8, 10))
        self.arch = torch.nn.Parameter(torch.randn(6, 5))

    def arch_parameters(self):
        return [self.arch]

    def extra_arch_parameters(self):
        return {}

    def weight_parameters(self):
        return [self.project, self.edges, self.head]

    def forward(self, inputs, weights=None, indices=None):
        hidden = torch.tanh(F.adaptive_avg_pool2d(inputs, 4).flatten(1) @ self.project)
        for edge in range(6):
            hidden = sum(weights[0][edge, k] * torch.tanh(hidden @ self.edges[edge, k]) for k in range(5))
        return hidden, hidden @ self.head


def test_darts_v2_gradient_matches_the_exact_second_order_gradient(loaders):
    torch.manual_seed(0)
    supernet = SmoothSuperNet().double()
    task = create_algorithm("darts-v2", supernet, loaders, OPTIM, tiny_settings("darts-v2"), CPU)
    task.scheduler.update(0, 0.0)
    inputs, targets, arch_inputs, arch_targets = (t.double() if t.is_floating_point() else t
                                                  for t in next(iter(loaders.search)))
    task.weight_step(inputs, targets, weights=task.softmax_weights())  # so that momentum buffers exist
    approximate, _ = task.unrolled_arch_gradient(inputs, targets, arch_inputs, arch_targets)

    # exact: d/d alpha of L_val(w - eta (mu m + grad_w L_train(w, alpha) + lambda w), alpha), by double backward
    named = dict(supernet.named_parameters())
    group = task.w_optimizer.param_groups[0]
    eta, momentum, decay = group["lr"], group["momentum"], group["weight_decay"]
    weight_names = [n for n in named if n != "arch"]
    loss = task.criterion(supernet(inputs, weights=[torch.softmax(named["arch"], -1)])[1], targets)
    grads = torch.autograd.grad(loss, [named[n] for n in weight_names], create_graph=True)
    unrolled = {n: named[n] - eta * (momentum * task.w_optimizer.state[named[n]]["momentum_buffer"] + g
                                     + decay * named[n]) for n, g in zip(weight_names, grads)}
    unrolled["arch"] = named["arch"]
    valid_logits = torch.func.functional_call(supernet, unrolled, (arch_inputs,),
                                              {"weights": [torch.softmax(named["arch"], -1)]})[1]
    (exact,) = torch.autograd.grad(task.criterion(valid_logits, arch_targets), [named["arch"]])
    assert exact.abs().max() > 1e-3
    torch.testing.assert_close(approximate[0], exact, rtol=1e-3, atol=1e-6)


# --------------------------------------------------------------------------------------- GDAS
def test_gumbel_hard_is_one_hot_forward_and_reaches_every_logit():
    alpha = torch.randn(6, 5, requires_grad=True)
    hard, index = gumbel_hard(alpha, 1.0, torch.Generator().manual_seed(0))
    assert torch.equal(hard.detach(), F.one_hot(torch.tensor(index), 5).float())
    (hard * torch.arange(30.0).view(6, 5)).sum().backward()
    assert (alpha.grad != 0).all()
    again, same_index = gumbel_hard(alpha, 1.0, torch.Generator().manual_seed(0))
    assert same_index == index  # the draw is the generator's, so every rank draws alike


def test_gdas_runs_only_the_sampled_op_of_each_edge(monkeypatch):
    torch.manual_seed(0)
    supernet = create_model({"name": "search.nb201", "C": 2, "N": 2, "num_classes": 10})
    calls = []
    real = F.conv2d
    monkeypatch.setattr(F, "conv2d", lambda *args, **kw: calls.append(1) or real(*args, **kw))
    inputs = torch.randn(2, 3, 8, 8)
    hard = F.one_hot(torch.tensor([1] * 6), 5).float().requires_grad_()

    def conv_calls(ops):
        calls.clear()
        supernet(inputs, weights=[hard], indices=[ops])[1].sum().backward()
        return len(calls)

    cells = 3 * 2
    base = conv_calls([1, 1, 4, 0, 1, 4])  # skip / pool / none: only the stem and the reduction blocks convolve
    assert conv_calls([3, 1, 2, 0, 1, 4]) - base == 2 * cells
    assert conv_calls([3, 3, 3, 2, 2, 2]) - base == 6 * cells
    supernet.zero_grad(set_to_none=True)
    hard = F.one_hot(torch.tensor([3, 1, 1, 0, 1, 1]), 5).float().requires_grad_()
    supernet(inputs, weights=[hard], indices=[[3, 1, 1, 0, 1, 1]])[1].sum().backward()
    cell = supernet.cells[0]
    assert cell.conv3x3[0].grad.abs().sum() > 0  # edge 0 ran its 3 x 3 conv; no other conv ran
    assert all(p.grad is None for k, p in enumerate([*cell.conv1x1, *cell.conv3x3]) if k != 6)
    selected_none = torch.zeros(6, 5, dtype=torch.bool)
    selected_none[3, 0] = True  # w * none(x) = 0 carries no gradient; every other weight gets one
    assert (hard.grad[~selected_none] != 0).all() and hard.grad[3, 0] == 0


# --------------------------------------------------------------------------------------- SETN
def test_setn_top_k_is_the_exact_top_k_by_log_probability():
    torch.manual_seed(0)
    log_probs = F.log_softmax(torch.randn(6, 5), dim=-1).double().numpy()
    every = np.array([arch.op_indices for arch in all_archs()])
    scores = log_probs[np.arange(6), every].sum(axis=1)
    found = top_k_structures([log_probs], 100)
    assert len(found) == 100 and len({tuple(f[0][0]) for f in found}) == 100
    np.testing.assert_allclose([score for _, score in found], np.sort(scores)[::-1][:100], rtol=0, atol=1e-12)
    for indices, score in found:
        assert log_probs[np.arange(6), indices[0]].sum() == pytest.approx(score, abs=1e-12)
    # two tables (normal and reduce) against brute force over a small space
    tables = [F.log_softmax(torch.randn(3, 4), dim=-1).double().numpy() for _ in range(2)]
    brute = sorted((sum(t[np.arange(3), list(c[3 * k:3 * k + 3])].sum() for k, t in enumerate(tables))
                    for c in itertools.product(range(4), repeat=6)), reverse=True)
    np.testing.assert_allclose([s for _, s in top_k_structures(tables, 50)], brute[:50], atol=1e-12)
    # tables of different widths (NASP(12ops): 8 normal-cell ops, 5 reduction-cell ops)
    tables = [F.log_softmax(torch.randn(2, n), dim=-1).double().numpy() for n in (4, 3)]
    brute = sorted((tables[0][np.arange(2), list(c[:2])].sum() + tables[1][np.arange(2), list(c[2:])].sum()
                    for c in itertools.product(range(4), range(4), range(3), range(3))), reverse=True)
    found = top_k_structures(tables, 144)
    assert all(max(ix[1]) < 3 for ix, _ in found)
    np.testing.assert_allclose([s for _, s in found], brute, atol=1e-12)


# --------------------------------------------------------------------------------------- ENAS
def test_enas_reinforce_terms_on_hand_made_numbers():
    def terms(mode, baseline):
        log_prob, entropy = torch.tensor(-2.0, requires_grad=True), torch.tensor(1.5, requires_grad=True)
        loss, new_baseline, reward = reinforce_loss(log_prob, entropy, accuracy=0.5, baseline=baseline,
                                                    entropy_weight=0.1, decay=0.9, mode=mode)
        loss.backward()
        return float(loss.detach()), new_baseline, reward, float(log_prob.grad), entropy.grad

    # the original: the sample's baseline 0.4 - 0.1 (0.4 - 0.65) = 0.425 moves with the reward, so the loss is
    # -log_prob x 0.9 x (reward - 0.4) = 2 x 0.225, and the entropy's gradient is -log_prob x 0.9 x 0.1 = 0.18
    loss, baseline, reward, d_log_prob, d_entropy = terms("epoch", 0.4)
    assert reward == pytest.approx(0.65) and baseline == pytest.approx(0.425)
    assert loss == pytest.approx(0.45) and d_log_prob == pytest.approx(-0.225) and float(d_entropy) == pytest.approx(0.18)
    # its first epoch: the baseline is the accuracy, so only the entropy bonus drives the controller
    loss, baseline, reward, d_log_prob, d_entropy = terms("epoch", None)
    assert baseline == 0.5 and loss == pytest.approx(2.0 * 0.15) and d_log_prob == pytest.approx(-0.15)
    assert float(d_entropy) == pytest.approx(0.2)
    # the paper's running baseline: a detached bonus, advantage against the baseline before this sample
    loss, baseline, reward, d_log_prob, d_entropy = terms("sample", 0.4)
    assert loss == pytest.approx(2.0 * 0.25) and d_log_prob == pytest.approx(-0.25) and d_entropy is None
    assert baseline == pytest.approx(0.4 - 0.1 * (0.4 - 0.65))
    loss, baseline, reward, _, _ = terms("sample", None)
    assert loss == 0.0 and baseline == pytest.approx(0.65) == reward


def test_enas_controller_log_prob_and_entropy_are_the_sums_over_edges():
    from autodl.models.controller import Controller

    torch.manual_seed(0)
    controller = Controller()
    log_prob, entropy, ops, probs = controller(torch.Generator().manual_seed(1))
    assert len(ops) == 6 and probs.shape == (6, 5)
    torch.testing.assert_close(probs.sum(dim=1), torch.ones(6, dtype=torch.float32))
    rows = probs.double()
    assert float(log_prob) == pytest.approx(float(rows[torch.arange(6), ops].log().sum()), rel=1e-5)
    assert float(entropy) == pytest.approx(float(-(rows * rows.log()).sum()), rel=1e-5)
    assert (probs.max() <= 1 / (1 + 4 * np.exp(-5.0))).item()  # logits are bounded by 2.5 tanh(.)
    rescored = controller(actions=ops)
    assert float(rescored[0]) == pytest.approx(float(log_prob)) and rescored[2] == ops


# -------------------------------------------------------------------------- entry point and errors
def run_cli(*args):
    return run_script(ROOT / "exps" / "search-cell.py", *args)


@pytest.mark.parametrize("args,message", [
    (["--algo", "nope"], "argument --algo: invalid choice: 'nope'"),
    (["--algo", "enas", "--space", "darts"], "algorithm 'enas' is not offered on the 'darts' space"),
    (["--algo", "gdas", "--dataset", "cifar10", "--data-path", "/nonexistent/cifar"], "/nonexistent/cifar"),
    (["--algo", "gdas", "--space", "darts", "--benchmark", "/nonexistent.pth"], "--benchmark needs the nas-bench-201"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, args, message):
    base = ["--dataset", "digits16", "--save-dir", str(tmp_path / "run")]
    done = run_cli(*base, *args)
    assert done.returncode == 2 and message in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()


def test_gumbel_hard_on_non_finite_alpha_is_a_divergence_error_not_a_hang():
    from autodl.errors import DivergenceError

    alpha = torch.tensor([[0.0, float("nan"), 1.0]])
    with pytest.raises(DivergenceError, match="architecture parameters are not finite"):
        gumbel_hard(alpha, 1.0, torch.Generator().manual_seed(0))


def load_search_cell_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("search_cell", ROOT / "exps" / "search-cell.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("algorithm,space", CASES)
def test_every_registered_algorithm_has_a_shipped_recipe_on_each_space(algorithm, space):
    path = load_search_cell_module().default_recipe(algorithm, space)
    optim, search = load_search_recipe(path, algorithm, space=space)
    assert path.parent.name == space and search.space == space and optim.epochs > 0
    # the original's published-results behaviours (docs/SEARCH.md "Ops that did not run", docs/search/ENAS.md)
    assert search.unused_ops == "decay" and getattr(search, "controller_baseline", "epoch") == "epoch"


def test_the_exactness_options_reach_the_search_from_the_command_line(tmp_path, monkeypatch):
    module = load_search_cell_module()
    seen = []
    monkeypatch.setattr(module, "run_search", lambda algo, optim, search, *args, **kwargs:
                        seen.append(search) or SimpleNamespace(artifact=None))
    assert module.main(["--algo", "enas", "--dataset", "digits16", "--save-dir", str(tmp_path / "run"),
                        "--unused-ops", "skip", "--controller-baseline", "sample"]) == 0
    assert seen[0].unused_ops == "skip" and seen[0].controller_baseline == "sample"


def test_an_algorithm_without_a_shipped_recipe_asks_for_recipe(monkeypatch):
    from autodl.algorithms.registry import AlgorithmSpec
    from autodl.errors import ConfigError

    monkeypatch.setitem(ALGORITHMS._items, "new-algo", AlgorithmSpec(ALGORITHMS.get("gdas").task, {}, None))
    with pytest.raises(ConfigError, match="no recipe is shipped for 'new-algo' on the 'darts' space; pass --recipe"):
        load_search_cell_module().default_recipe("new-algo", "darts")


def test_benchmark_numbers_are_logged_every_epoch_and_stored_in_the_artifact(tmp_path):
    from autodl.benchmarks.nb201 import NB201Benchmark
    from autodl.benchmarks.nb201.synthetic import write_synthetic_store

    store = write_synthetic_store(tmp_path / "store", epochs=(2, 3))
    optim, search = OPTIM.__class__(**{**OPTIM.__dict__, "epochs": 2}), tiny_settings("gdas")
    result = run_search("gdas", optim, search, "digits16", tmp_path / "run", seed=1, batch_size=128, device="cpu",
                        benchmark=store, progress=False, echo=False)
    bench = NB201Benchmark.open(store)
    for record in result.history:
        assert record["bench_cifar10_valid"] == bench.metric(record["arch"], "cifar10", "valid")
        assert record["bench_cifar100_test"] == bench.final_accuracy(record["arch"], "cifar100")
    artifact = load_artifact(result.artifact)
    assert artifact.benchmark["hp"] == "200"
    assert artifact.benchmark["bench_ImageNet16-120_test"] == bench.final_accuracy(result.arch, "ImageNet16-120")
    assert artifact.search_cost_s >= sum(r["epoch_time_s"] for r in result.history)


def test_a_new_algorithms_settings_become_its_flags_and_its_config(tmp_path, monkeypatch, capsys):
    """Registering a class with its own ``Settings`` is all it takes: exps/search-cell.py gets a flag for
    each of its settings, the run's config.json holds the shared settings and its own only, and another
    algorithm's flag is refused in one line."""
    import json

    from autodl.algorithms.registry import AlgorithmSpec
    from autodl.config import SearchConfig, setting
    from autodl.errors import ConfigError

    @dataclasses.dataclass(frozen=True)
    class KnobSettings(SearchConfig):
        knob_level: int = setting(1, "knob-search: how far the knob turns")

    class KnobSearch(SearchTask):
        Settings = KnobSettings

        def search_step(self, inputs, targets, arch_inputs, arch_targets):
            sums = self.weight_step(inputs, targets, weights=self.softmax_weights())
            return {**sums, **self.arch_step(arch_inputs, arch_targets, self.softmax_weights())}

    monkeypatch.setitem(ALGORITHMS._items, "knob-search", AlgorithmSpec(KnobSearch, {}, None))
    recipe = tmp_path / "recipe.json"
    recipe.write_text(json.dumps({"optim": {"epochs": 1, "LR": 0.025, "batch_size": 96}, "search": {}}))
    module = load_search_cell_module()
    help_text = module.build_parser().format_help()
    assert "--knob-level" in help_text and "how far the knob turns [knob-search]" in " ".join(help_text.split())
    base = ["--algo", "knob-search", "--recipe", str(recipe), "--dataset", "digits16", "--device", "cpu", "--quiet",
            *tiny_flags("knob-search")]
    takers = [name for name, cls in settings_by_algorithm().items() if "tau_max" in {f.name for f in dataclasses.fields(cls)}]
    assert "gdas" in takers
    with pytest.raises(ConfigError, match="^" + re.escape(f"--tau-max is a setting of {', '.join(takers)}, not of 'knob-search'")):
        module.main([*base, "--save-dir", str(tmp_path / "refused"), "--tau-max", "2"])
    assert not (tmp_path / "refused").exists()
    assert module.main([*base, "--save-dir", str(tmp_path / "run"), "--knob-level", "3"]) == 0
    search = json.loads((tmp_path / "run" / "config.json").read_text())["search"]
    shared = {f.name for f in dataclasses.fields(SearchConfig)}
    assert set(search) == shared | {"knob_level"} and search["knob_level"] == 3 and search["channel"] == 2
