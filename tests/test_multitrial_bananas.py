"""BANANAS (multitrial/optimizers/bananas.py): the path encoding of a hand-worked cell, the predictor ensemble
fitting a known function of the cell, independent Thompson sampling picking the best draws, the rounds' wiring
(10 random cells first, then candidates mutated from the best cells, the round's picks proposed), exact resume from
the state dict, and (slow) better cells than random search on a generated full-size benchmark."""
import json
import random

import numpy as np
import pytest

from autodl.algorithms.multitrial import BenchmarkEvaluator, NB201Space, create_optimizer, run_trials
from autodl.algorithms.multitrial.optimizers import bananas
from autodl.algorithms.multitrial.optimizers.bananas import (PATH_FEATURES, MLPEnsemble, independent_thompson,
                                                             nb201_paths, path_encoding)
from autodl.algorithms.multitrial.warmstart import distinct_samples
from autodl.benchmarks.nb201 import NB201Benchmark
from autodl.benchmarks.nb201.synthetic import write_synthetic_store
from autodl.spaces.nb201 import Arch


def known(arch):
    ops = arch.op_indices
    return 40.0 + 8.0 * ops.count(3) + 4.0 * ops.count(2) - 6.0 * ops.count(0)


def test_the_path_encoding_of_a_hand_worked_cell():
    # edges 1<-0 nor_conv_3x3 (op 3), 2<-0 skip_connect (1), 2<-1 none (0), 3<-0 avg_pool_3x3 (4),
    # 3<-1 nor_conv_1x1 (2), 3<-2 skip_connect (1); a path o_0 .. o_{l-1} sets (paths shorter) + sum o_j 5^j:
    #   0->3           avg_pool                    4
    #   0->1->3        conv3x3, conv1x1            5 + 3 + 2*5        = 18
    #   0->2->3        skip, skip                  5 + 1 + 1*5        = 11
    #   0->1->2->3     conv3x3, none, skip         30 + 3 + 0*5 + 1*25 = 58
    cell = Arch.from_str("|nor_conv_3x3~0|+|skip_connect~0|none~1|+|avg_pool_3x3~0|nor_conv_1x1~1|skip_connect~2|")
    expected = np.zeros(155)
    expected[[4, 11, 18, 58]] = 1.0
    np.testing.assert_array_equal(path_encoding(cell), expected)
    assert PATH_FEATURES == 5 + 25 + 125
    assert sorted(nb201_paths()) == [(0, 2, 5), (0, 4), (1, 5), (3,)]
    # the encoding tells every cell apart (each edge lies on a path): 15,625 distinct codes
    codes = {path_encoding(Arch(ops)).tobytes() for ops in np.ndindex(*(5,) * 6)}
    assert len(codes) == 15625


def test_the_predictor_ensemble_fits_a_known_function_of_the_cell():
    cells = distinct_samples(NB201Space(), random.Random(0), 200)
    inputs = np.array([path_encoding(cell) for cell in cells])
    targets = np.array([known(cell) for cell in cells])
    targets = (targets - targets[:100].mean()) / targets[:100].std()
    rng = np.random.default_rng(1)
    ensemble = MLPEnsemble(5, PATH_FEATURES, rng)
    ensemble.fit(inputs[:100], targets[:100], 150, rng)
    held_out = ensemble.predict(inputs[100:])  # cells it never saw
    assert held_out.shape == (5, 100)
    constant = np.abs(targets[100:] - targets[:100].mean()).mean()  # 0.85: predicting the mean
    assert np.abs(held_out.mean(axis=0) - targets[100:]).mean() < 0.6 * constant
    assert (np.abs(held_out - targets[100:]).mean(axis=1) < 0.6).all()  # every member learned
    assert np.corrcoef(held_out.mean(axis=0), targets[100:])[0, 1] > 0.85
    assert held_out.std(axis=0).mean() > 0.01  # independent members disagree: the acquisition's spread


def test_independent_thompson_sampling_picks_the_best_draws():
    predictions = np.array([[1.0, -10.0, 0.5], [1.0, 10.0, 0.5], [1.0, -10.0, 0.5], [1.0, 10.0, 0.5], [1.0, 0.0, 0.5]])
    mean, std = np.array([1.0, 0.0, 0.5]), np.array([0.0, np.sqrt(80.0), 0.0])  # by hand: std of +-10 (x4) and 0
    picked = {}
    for seed in range(20):
        draws = mean + std * np.random.default_rng(seed).standard_normal(3)  # one independent draw per candidate
        got = independent_thompson(predictions, 3, np.random.default_rng(seed))
        assert list(got) == list(np.argsort(-draws))
        picked[got[0]] = seed
    assert set(picked) == {0, 1}  # the wide candidate wins some draws, the sure best the others
    assert list(independent_thompson(predictions, 1, np.random.default_rng(picked[1]))) == [1]  # not the best mean


def test_a_round_trains_on_every_result_and_proposes_the_best_draws_of_mutated_candidates(monkeypatch):
    rounds = []
    real_candidates, real_fit, real_its = bananas.Bananas.candidates, MLPEnsemble.fit, bananas.independent_thompson

    def candidates(self):
        rounds.append({"evaluated": list(self.evaluated), "candidates": real_candidates(self)})
        return rounds[-1]["candidates"]

    def fit(self, inputs, targets, epochs, rng, **kwargs):
        rounds[-1]["fit"] = (len(inputs), epochs)
        return real_fit(self, inputs, targets, epochs, rng, **kwargs)

    def its(predictions, count, rng):
        rounds[-1]["predictions"], rounds[-1]["picks"] = predictions, real_its(predictions, count, rng)
        return rounds[-1]["picks"]

    monkeypatch.setattr(bananas.Bananas, "candidates", candidates)
    monkeypatch.setattr(MLPEnsemble, "fit", fit)
    monkeypatch.setattr(bananas, "independent_thompson", its)
    search = create_optimizer("bananas", NB201Space(), 0, predictor_epochs=5)
    proposed = []
    for _ in range(30):
        proposal = search.ask()
        assert len(rounds) == max(0, (len(proposed) - 10) // 10 + 1)  # 10 random cells, then a round per 10
        proposed.append(proposal.candidate)
        search.tell(proposal, known(proposal.candidate))
    assert len({str(cell) for cell in proposed}) == 30
    for number, round_ in enumerate(rounds):
        seen = {str(cell) for cell, _ in round_["evaluated"]}
        assert len(round_["evaluated"]) == 10 + 10 * number and round_["fit"] == (len(round_["evaluated"]), 5)
        cands = round_["candidates"]
        assert len(cands) >= 100 and len({str(c) for c in cands}) == len(cands) and not seen & {str(c) for c in cands}
        parents = [cell for cell, _ in sorted(round_["evaluated"], key=lambda e: -e[1])[:5]]
        nearest = [min(sum(a != b for a, b in zip(c.op_indices, p.op_indices)) for p in parents) for c in cands]
        assert np.mean(nearest) < 2.5  # near the best cells: 1.9-2.0 (random cells: 3.5 from the nearest of 5)
        assert round_["predictions"].shape == (5, len(cands))
        assert proposed[10 + 10 * number: 20 + 10 * number] == [cands[i] for i in round_["picks"]]


def test_the_state_dict_resumes_exactly():
    space = NB201Space()
    first = create_optimizer("bananas", space, 4, predictor_epochs=10)
    for _ in range(25):  # mid-round: 10 random, a round of 10, half of the next
        proposal = first.ask()
        first.tell(proposal, known(proposal.candidate))
    state = json.loads(json.dumps(first.state_dict()))
    second = create_optimizer("bananas", space, 4, predictor_epochs=10)
    second.load_state_dict(state)
    for _ in range(25):
        proposals = first.ask(), second.ask()
        assert proposals[0] == proposals[1]
        for search, proposal in zip((first, second), proposals):
            search.tell(proposal, known(proposal.candidate))


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    path = write_synthetic_store(tmp_path_factory.mktemp("known") / "store", epochs=(12, 20),
                                 accuracy=lambda cell: known(Arch.from_str(cell)))
    return NB201Benchmark.open(path)


@pytest.mark.slow
def test_over_20_runs_it_finds_better_cells_than_random_search(bench):
    found = {}
    for algo in ("random", "bananas"):
        runs = []
        for seed in range(20):
            evaluator = BenchmarkEvaluator(bench, "cifar10", seed=seed)
            runs.append(known(run_trials(create_optimizer(algo, evaluator.space, seed), evaluator,
                                         time_budget=12000.0).best))
        found[algo] = np.mean(runs)
    assert found["bananas"] > found["random"] + 5, found
