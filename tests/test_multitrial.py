"""Multi-trial searches on a generated full-size benchmark whose accuracies follow a known function of the
cell.  Every registered optimiser (OPTIMIZERS, a plugin's too): its declared options, the ask/tell contract,
the budget rule, the answer, determinism, the state round trip, the trial log and its replay, a search of a
hyper-parameter space.  Then each algorithm's own mechanism: search quality, BOHB's Hyperband schedule,
REINFORCE's and REA's update rules on hand-made numbers."""
import dataclasses
import json
import math
import typing

import numpy as np
import pytest
import torch

from autodl.algorithms.multitrial import (OPTIMIZERS, BenchmarkEvaluator, Evaluation, Evaluator, HyperSpace,
                                          NB201Space, Options, Proposal, create_optimizer, run_trials)
from autodl.algorithms.multitrial.base import make_options
from autodl.algorithms.multitrial.optimizers.bohb import bracket, hyperband_budgets
from autodl.algorithms.multitrial.evaluators import trial_draw
from autodl.algorithms.multitrial.optimizers.reinforce import Reinforce
from autodl.benchmarks.nb201 import NASBench201API, NB201Benchmark
from autodl.benchmarks.nb201.synthetic import make_benchmark, write_synthetic_store
from autodl.errors import CheckpointError, ConfigError
from autodl.spaces.nb201 import EDGES, Arch

ALGOS = OPTIMIZERS.names()
OVERRIDES = {"reinforce": {"learning_rate": 0.5},
             "bohb": {"n_iters": 50, "num_samples": 4, "random_fraction": 0.0, "bandwidth_factor": 3,
                      "min_bandwidth": 0.3}}
"""Options of these tests where an algorithm's defaults do not fit: the launchers' (scripts-search/algos)."""
OPTION_FIELDS = [(algo, field.name) for algo in ALGOS for field in dataclasses.fields(OPTIMIZERS.get(algo).Options)]


def options(algo):
    return OVERRIDES.get(algo, {})


def known_accuracy(arch_str):
    """The generated benchmark's accuracy of a cell: 3x3 convolutions help most, 'none' edges hurt."""
    ops = Arch.from_str(arch_str).op_indices
    return 40.0 + 8.0 * ops.count(3) + 4.0 * ops.count(2) - 6.0 * ops.count(0)


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    path = write_synthetic_store(tmp_path_factory.mktemp("known") / "store", epochs=(12, 20), accuracy=known_accuracy)
    return NB201Benchmark.open(path)


def search(bench, algo, seed, budget=12000.0, save_dir=None, dataset="cifar10"):
    evaluator = BenchmarkEvaluator(bench, dataset, seed=seed)
    return run_trials(create_optimizer(algo, evaluator.space, seed, **options(algo)), evaluator,
                      time_budget=budget, save_dir=save_dir)


# ------------------------------------------------------------------------------------ evaluator
def test_the_benchmark_evaluator_reads_the_official_protocol_of_simulate_train_eval():
    data = make_benchmark(12)  # the official layout: cifar10-valid has two 12-epoch seeds (111, 777)
    api, evaluator = NASBench201API(data, verbose=False), BenchmarkEvaluator(NB201Benchmark.open(data), "cifar10", seed=5)
    for trial in range(24):
        index = trial % 12
        seed = [111, 777][trial_draw(5, trial, 2)]
        info = api.get_more_info(index, "cifar10-valid", hp="12", is_random=seed)
        got = evaluator.evaluate(Arch.from_str(api.meta_archs[index]), None, trial)
        assert got.score == info["valid-accuracy"]
        assert got.cost == pytest.approx(info["train-all-time"] + info["valid-per-time"], rel=1e-12)
    assert {trial_draw(5, t, 2) for t in range(24)} == {0, 1}  # both seeds are drawn


def test_multi_fidelity_answers_from_the_200_epoch_curve(bench):
    evaluator = BenchmarkEvaluator(bench, "cifar100", multi_fidelity=True)
    arch = Arch.from_str("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|")
    early, late = evaluator.evaluate(arch, 2, 0), evaluator.evaluate(arch, 20, 0)
    assert early.score < late.score and early.cost < late.cost
    epoch_time = 4.0 + 2.0 * 6  # the generator's per-epoch train time of six 3x3 convolutions; evaluation a quarter
    assert late.cost == pytest.approx(20 * epoch_time + epoch_time / 4)
    assert evaluator.evaluate(arch, None, 0).cost == pytest.approx(12 * epoch_time + epoch_time / 4)


# ------------------------------------------------------------------------ options and ask/tell
SCALARS = (int, float, bool, str)


@pytest.mark.parametrize("algo", ALGOS)
def test_every_optimiser_declares_its_options_with_help_and_valid_defaults(algo):
    cls = OPTIMIZERS.get(algo)
    assert dataclasses.is_dataclass(cls.Options) and issubclass(cls.Options, Options)
    hints = typing.get_type_hints(cls.Options)
    for field in dataclasses.fields(cls.Options):
        assert field.metadata.get("help"), f"{algo}: option {field.name} has no help text"
        kinds = [kind for kind in typing.get_args(hints[field.name]) if kind is not type(None)] or [hints[field.name]]
        assert len(kinds) == 1 and kinds[0] in SCALARS, f"{algo}: option {field.name} is not a scalar (a flag)"
    assert create_optimizer(algo, NB201Space(), 0).options == cls.Options()
    if cls.multi_fidelity:
        assert {"min_budget", "max_budget"} <= {field.name for field in dataclasses.fields(cls.Options)}


@pytest.mark.parametrize("algo,name", OPTION_FIELDS)
def test_a_bad_option_value_is_one_line_naming_the_algorithm_and_the_option(algo, name):
    cls = OPTIMIZERS.get(algo)
    with pytest.raises(ConfigError) as error:
        make_options(cls, {name: ["not", "a", "value"]})
    assert "\n" not in str(error.value) and algo in str(error.value) and repr(name) in str(error.value)
    field = {f.name: f for f in dataclasses.fields(cls.Options)}[name]
    if field.metadata.get("count"):
        with pytest.raises(ConfigError, match=f"{name}=0"):
            make_options(cls, {name: 0})


@pytest.mark.parametrize("algo", ALGOS)
def test_an_unknown_option_is_refused_naming_the_options_the_algorithm_takes(algo):
    with pytest.raises(ConfigError, match=f"option 'no_such_option' does not apply to {algo}; it takes") as error:
        create_optimizer(algo, NB201Space(), 0, no_such_option=1)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("algo", ALGOS)
def test_ask_and_tell_keep_the_contract(algo):
    """Proposals are candidates of the space (JSON round trip) with a budget in the declared range exactly when
    the optimiser is multi-fidelity; several may be asked before any is told (a driver with workers); with every
    proposal told, ask proposes again."""
    space = NB201Space()
    optimizer, multi_fidelity = create_optimizer(algo, space, 0, **options(algo)), OPTIMIZERS.get(algo).multi_fidelity
    told = 0
    while told < 60:
        batch = []
        while len(batch) < 3 and (proposal := optimizer.ask()) is not None:
            batch.append(proposal)
        assert batch, f"{algo} proposed nothing with no result pending"
        for proposal in batch:
            assert isinstance(proposal, Proposal)
            assert space.from_json(json.loads(json.dumps(space.to_json(proposal.candidate)))) == proposal.candidate
            if multi_fidelity:
                assert optimizer.options.min_budget <= proposal.budget <= optimizer.options.max_budget
            else:
                assert proposal.budget is None
            optimizer.tell(proposal, known_accuracy(str(proposal.candidate)))
            told += 1


# ----------------------------------------------------------------------- budget, answer, seeds
@pytest.mark.parametrize("algo", ALGOS)
def test_the_time_budget_is_exact_and_the_answer_is_the_best_evaluated(bench, algo, tmp_path):
    result = search(bench, algo, seed=3, budget=5000.0, save_dir=tmp_path)
    costs = [trial.cost for trial in result.trials]
    assert result.stopped == "budget" and result.total_cost == pytest.approx(sum(costs)) and sum(costs) <= 5000.0
    logged = [json.loads(line) for line in (tmp_path / "trials.jsonl").read_text().splitlines()]
    assert len(logged) == len(result.trials) + 1  # the trial that would have gone over was evaluated, not counted
    assert sum(costs) + logged[-1]["cost"] > 5000.0
    top = max(trial.budget or 0 for trial in result.trials)  # BOHB answers from its largest budget (the incumbent)
    eligible = [trial for trial in result.trials if (trial.budget or 0) == top]
    assert result.best_score == max(trial.score for trial in eligible)
    assert str(result.best) == logged[result.best_trial]["candidate"]


@pytest.mark.parametrize("algo", ALGOS)
def test_a_search_is_deterministic_for_a_seed(bench, algo):
    runs = [search(bench, algo, seed) for seed in (7, 7, 8)]
    trajectory = [[(str(t.candidate), t.budget, t.score) for t in run.trials] for run in runs]
    assert trajectory[0] == trajectory[1] and trajectory[0] != trajectory[2]


def test_over_50_runs_rea_and_bohb_find_better_cells_than_random_search(bench):
    found = {algo: np.mean([known_accuracy(str(search(bench, algo, seed).best)) for seed in range(50)])
             for algo in ("random", "rea", "bohb")}
    assert found["rea"] > found["random"] + 2 and found["bohb"] > found["random"] + 1, found


# ---------------------------------------------------------------------------------------- BOHB
def test_bohb_budgets_and_brackets_follow_hyperband():
    assert hyperband_budgets(12, 200, 3) == pytest.approx([200 / 9, 200 / 3, 200])
    assert hyperband_budgets(1, 81, 3) == pytest.approx([1, 3, 9, 27, 81])
    # Li et al. 2018, table 1 (R = 81, eta = 3): brackets s = 4..0
    assert [bracket(i, 5, 3) for i in range(6)] == [([81, 27, 9, 3, 1], 0), ([34, 11, 3, 1], 1), ([15, 5, 1], 2),
                                                    ([8, 2], 3), ([5], 4), ([81, 27, 9, 3, 1], 0)]


def test_bohb_asks_the_hyperband_schedule_and_promotes_the_best(bench):
    space = NB201Space()
    bohb = create_optimizer("bohb", space, 0, min_budget=1, max_budget=9, eta=3)
    asked = []
    for _ in range(9 + 3 + 1 + 5 + 1 + 3):
        proposal = bohb.ask()
        assert proposal is not None
        asked.append(proposal)
        bohb.tell(proposal, known_accuracy(str(proposal.candidate)) + proposal.budget)
    assert [p.budget for p in asked] == [1.0] * 9 + [3.0] * 3 + [9.0] + [3.0] * 5 + [9.0] + [9.0] * 3
    first = sorted(asked[:9], key=lambda p: -known_accuracy(str(p.candidate)))
    assert {str(p.candidate) for p in asked[9:12]} == {str(p.candidate) for p in first[:3]}
    assert str(asked[12].candidate) == str(max(asked[9:12], key=lambda p: known_accuracy(str(p.candidate))).candidate)


def test_bohb_waits_for_a_stage_before_promoting():
    bohb = create_optimizer("bohb", NB201Space(), 0, min_budget=1, max_budget=3, eta=3)
    pending = [bohb.ask() for _ in range(3)]
    assert bohb.ask() is None  # stage 0 of the first bracket holds 3 candidates; their results come first
    for proposal in pending:
        bohb.tell(proposal, 1.0)
    assert bohb.ask().budget == 3.0


# ------------------------------------------------------------------------------ update rules
def test_reinforce_baseline_and_adam_step_match_hand_numbers_and_torch():
    space = NB201Space()
    policy = Reinforce(space, 0, learning_rate=0.5, ema_momentum=0.9)
    policy.logits[:] = 0.0
    logits = torch.zeros(6, 5, requires_grad=True)
    adam = torch.optim.Adam([logits], lr=0.5)
    numerator = denominator = 0.0
    for reward, choices in ((80.0, [3, 3, 3, 3, 3, 3]), (90.0, [0, 1, 2, 3, 4, 0]), (70.0, [2, 2, 2, 2, 2, 2])):
        numerator, denominator = 0.9 * numerator + 0.1 * reward, 0.9 * denominator + 0.1
        policy.tell(Proposal(space.from_choices(choices), memo=choices), reward)
        assert policy.baseline.value == pytest.approx(numerator / denominator)
        log_prob = torch.log_softmax(logits, dim=1)[torch.arange(6), torch.tensor(choices)].sum()
        loss = -log_prob * (reward - numerator / denominator)
        adam.zero_grad()
        loss.backward()
        adam.step()
        np.testing.assert_allclose(policy.logits, logits.detach().numpy(), rtol=1e-5, atol=1e-6)
        if reward == 80.0:  # baseline 80 = the reward: no advantage, no change (Adam's moments stay zero)
            assert not policy.logits.any()
        if reward == 90.0:  # baseline (0.9 * 8 + 9) / 0.19; Adam's first non-zero step is lr * (0.1/0.19) / sqrt(0.001/0.001999)
            assert policy.baseline.value == pytest.approx(16.2 / 0.19)
            step = 0.5 * (0.1 / 0.19) / math.sqrt(0.001 / (1 - 0.999 ** 2))
            assert policy.logits[0, 0] == pytest.approx(step) and policy.logits[0, 1] == pytest.approx(-step)


class ScriptedRandom:
    """Returns the scripted values from ``random()``."""

    def __init__(self, values):
        self.values = list(values)

    def random(self):
        return self.values.pop(0)


def test_rea_tournament_with_replacement_single_mutation_and_aging():
    space = NB201Space()
    rea = create_optimizer("rea", space, 0, population=3, sample_size=2)
    members = [Arch((0,) * 6), Arch((1,) * 6), Arch((2,) * 6)]
    for arch, score in zip(members, (70.0, 50.0, 90.0)):
        rea.ask()
        rea.tell(Proposal(arch), score)
    # the tournament draws members 0 and 1 (the best, member 2, is not drawn) -> parent = member 0 (70);
    # mutation: node 3 (draw 0.9 of 3 nodes), its edge 1 of 3 (3<-1), the 4th of the 4 other ops -> op 4
    rea.rng = ScriptedRandom([0.1, 0.5, 0.9, 0.5, 0.99])
    child = rea.ask().candidate
    assert child == Arch((0, 0, 0, 0, 4, 0))
    rea.tell(Proposal(child), 60.0)
    assert [score for _, score in rea.population] == [50.0, 90.0, 60.0]  # the oldest (70) left, not the worst (50)


def test_nb201_mutation_picks_a_node_then_one_of_its_edges():
    import random

    space, rng, counts = NB201Space(), random.Random(0), np.zeros(6)
    parent = Arch((3,) * 6)
    for _ in range(9000):
        child = space.mutate(parent, rng)
        changed = [k for k in range(6) if child.op_indices[k] != 3]
        assert len(changed) == 1
        counts[changed[0]] += 1
    np.testing.assert_allclose(counts / 9000, [1 / 3, 1 / 6, 1 / 6, 1 / 9, 1 / 9, 1 / 9], atol=0.02)


@pytest.mark.parametrize("algo", ALGOS)
def test_state_dict_round_trips_through_json_and_continues_identically(bench, algo):
    evaluator = BenchmarkEvaluator(bench, "cifar10")
    first = create_optimizer(algo, evaluator.space, 4, **options(algo))
    for trial in range(30):
        proposal = first.ask()
        first.tell(proposal, evaluator.evaluate(proposal.candidate, None, trial).score)
    second = create_optimizer(algo, evaluator.space, 99, **options(algo))
    second.load_state_dict(json.loads(json.dumps(first.state_dict())))
    for trial in range(30, 60):
        proposals = first.ask(), second.ask()
        assert proposals[0] == proposals[1]
        score = evaluator.evaluate(proposals[0].candidate, None, trial).score
        first.tell(proposals[0], score)
        second.tell(proposals[1], score)


# --------------------------------------------------------------------------- hyper-parameter space
SPACE = {"lr": {"type": "float", "low": 1e-4, "high": 1.0, "log": True},
         "batch_size": {"type": "int", "low": 16, "high": 256, "log": True},
         "smoothing": {"type": "float", "low": 0.0, "high": 0.2},
         "optim": {"type": "categorical", "choices": ["SGD", "RMSprop"]}}


class Quadratic(Evaluator):
    """Score = -(log10 lr + 2)^2 - (smoothing - 0.1)^2 * 100 + [optim == SGD]: best at lr 0.01, SGD."""

    def __init__(self, space):
        self.space = space

    def evaluate(self, candidate, budget, trial):
        value = -(math.log10(candidate["lr"]) + 2) ** 2 - 100 * (candidate["smoothing"] - 0.1) ** 2
        return Evaluation(value + (candidate["optim"] == "SGD"), 1.0)


def search_space(algo):
    space = HyperSpace.from_dict(SPACE)
    budgets = {"min_budget": 1, "max_budget": 9} if OPTIMIZERS.get(algo).multi_fidelity else {}
    return space, run_trials(create_optimizer(algo, space, 0, **budgets), Quadratic(space), max_trials=120)


@pytest.mark.parametrize("algo", ALGOS)
def test_every_algorithm_searches_a_hyper_parameter_space(algo):
    space, result = search_space(algo)
    best = result.best
    assert 1e-4 <= best["lr"] <= 1.0 and 16 <= best["batch_size"] <= 256 and isinstance(best["batch_size"], int)
    assert space.from_json(json.loads(json.dumps(space.to_json(best)))) == best
    top = max(trial.budget or 0 for trial in result.trials)
    assert result.best_score == max(trial.score for trial in result.trials if (trial.budget or 0) == top)


@pytest.mark.parametrize("algo", ["rea", "reinforce", "bohb"])
def test_rea_reinforce_and_bohb_get_close_to_the_optimum_of_a_hyper_parameter_space(algo):
    assert search_space(algo)[1].best_score > -0.5


@pytest.mark.parametrize("spec,message", [
    ({"lr": {"type": "float", "low": 0, "high": 1, "log": True}}, "needs low > 0"),
    ({"lr": {"type": "uniform", "low": 0, "high": 1}}, "has type 'uniform'"),
    ({"lr": {"type": "float", "low": 1, "high": 0}}, "low=1 > high=0"),
    ({"n": {"type": "int", "low": 1.5, "high": 3}}, "integer bounds"),
    ({"opt": {"type": "categorical", "choices": []}}, "non-empty list"),
    ({"lr": {"type": "float", "low": 0, "hi": 1}}, "unknown key 'hi'"),
    ([1, 2], "expected a non-empty JSON object"),
])
def test_a_malformed_space_is_one_clear_error(spec, message, tmp_path):
    path = tmp_path / "space.json"
    path.write_text(json.dumps(spec))
    with pytest.raises(ConfigError, match=message) as error:
        HyperSpace.from_file(path)
    assert "\n" not in str(error.value) and str(path) in str(error.value)


def test_log_scale_samples_are_uniform_in_the_logarithm():
    import random

    space, rng = HyperSpace.from_dict({"lr": SPACE["lr"]}), random.Random(0)
    logs = np.log10([space.sample(rng)["lr"] for _ in range(4000)])
    assert abs(np.mean(logs < -2) - 0.5) < 0.03 and logs.min() >= -4 and logs.max() <= 0


# ---------------------------------------------------------------------------- trial log and replay
class Counting(Evaluator):
    def __init__(self, inner):
        self.inner, self.space, self.calls = inner, inner.space, 0

    def evaluate(self, candidate, budget, trial):
        self.calls += 1
        return self.inner.evaluate(candidate, budget, trial)


@pytest.mark.parametrize("algo", ALGOS)
def test_a_cut_trial_log_replays_without_re_evaluating(bench, algo, tmp_path):
    full = search(bench, algo, seed=2, save_dir=tmp_path / "full")
    lines = (tmp_path / "full" / "trials.jsonl").read_text().splitlines()
    cut = tmp_path / "cut"
    cut.mkdir()
    (cut / "config.json").write_text((tmp_path / "full" / "config.json").read_text())
    (cut / "trials.jsonl").write_text("\n".join(lines[:25]) + "\n" + lines[25][:30])  # a kill mid-line
    counting = Counting(BenchmarkEvaluator(bench, "cifar10", seed=2))
    resumed = run_trials(create_optimizer(algo, counting.space, 2, **options(algo)), counting,
                         time_budget=12000.0, save_dir=cut)
    assert counting.calls == len(lines) - 25
    assert [(str(t.candidate), t.score) for t in resumed.trials] == [(str(t.candidate), t.score) for t in full.trials]
    numbers = [json.loads(line)["trial"] for line in (cut / "trials.jsonl").read_text().splitlines()]
    assert numbers == list(range(len(lines)))  # the cut line is gone, every trial is logged once


def test_a_trial_log_of_another_search_is_refused(bench, tmp_path):
    search(bench, "rea", seed=2, save_dir=tmp_path)
    with pytest.raises(CheckpointError, match="does not match this search"):
        search(bench, "rea", seed=3, save_dir=tmp_path)


def test_the_nb201_space_has_one_dimension_per_edge():
    assert len(EDGES) == len(NB201Space.cardinalities)


@pytest.mark.slow
def test_on_an_official_layout_file_of_the_whole_space_rea_and_bohb_beat_random():
    data = make_benchmark(15625, epochs=(12, 2), accuracy=known_accuracy)  # the official dict layout, every cell
    bench = NB201Benchmark.open(data)
    found = {algo: np.mean([known_accuracy(str(search(bench, algo, seed).best)) for seed in range(20)])
             for algo in ("random", "rea", "bohb")}
    assert found["rea"] > found["random"] + 1 and found["bohb"] > found["random"], found


def test_bohb_with_multi_fidelity_pays_for_the_epochs_it_asks(bench):
    evaluator = BenchmarkEvaluator(bench, "cifar10", seed=1, multi_fidelity=True)
    bohb = create_optimizer("bohb", evaluator.space, 1, min_budget=2, max_budget=18, eta=3)
    result = run_trials(bohb, evaluator, time_budget=20000.0)
    assert {trial.budget for trial in result.trials} == {2.0, 6.0, 18.0}
    for trial in result.trials:
        ops = trial.candidate.op_indices
        epoch_time = 4.0 + 2.0 * ops.count(3) + ops.count(2)  # the generator's per-epoch train time
        assert trial.cost == pytest.approx(trial.budget * epoch_time + epoch_time / 4)
    assert result.trials[result.best_trial].budget == 18.0  # the incumbent comes from the largest budget
