"""Local search (multitrial/optimizers/local_search.py), on score functions whose local optima are known: every
proposal after a start is a one-edge neighbour of the current cell, no cell is proposed twice, the search moves to
the best neighbour only when it improves and restarts only at a local optimum, it reaches the global optimum, and
over 100 runs on a generated full-size benchmark it beats random search clearly."""
import itertools

import numpy as np
import pytest

from autodl.algorithms.multitrial import (BenchmarkEvaluator, Evaluation, Evaluator, HyperSpace, NB201Space,
                                          create_optimizer, run_trials)
from autodl.algorithms.multitrial.optimizers.local_search import neighbours
from autodl.spaces.nb201 import EDGES, OP_NAMES, Arch

from test_multitrial import bench, known_accuracy  # noqa: F401  (bench: the known-function store fixture)

CONV3, POOL = Arch((3,) * 6), Arch((4,) * 6)  # every edge nor_conv_3x3 / every edge avg_pool_3x3


def trap(arch):
    """Two local optima and no plateau: the all-3x3 cell (6) and the all-pooling cell (6.5, the global optimum); from
    any other cell one more 3x3 or one more pooling edge scores higher."""
    ops = arch.op_indices
    return max(ops.count(3), ops.count(4) + 0.5)


def edits(a, b):
    return sum(x != y for x, y in zip(a.op_indices, b.op_indices))


class Scored(Evaluator):
    real_time = False

    def __init__(self, space, score):
        self.space, self.score = space, score

    def evaluate(self, candidate, budget, trial):
        return Evaluation(self.score(candidate), 1.0)


def climb(seed, trials, score=trap, **options):
    """Ask/tell ``trials`` proposals; returns the optimiser and each proposal with the current cell after its ask."""
    search = create_optimizer("local_search", NB201Space(), seed, **options)
    events = []
    for _ in range(trials):
        proposal = search.ask()
        events.append((proposal.candidate, search.current))
        search.tell(proposal, score(proposal.candidate))
    return search, events


def test_the_neighbours_of_a_cell_are_the_24_cells_one_edge_away():
    cell = Arch.from_str("|nor_conv_3x3~0|+|skip_connect~0|none~1|+|avg_pool_3x3~0|nor_conv_1x1~1|skip_connect~2|")
    found = neighbours(NB201Space(), cell)
    expected = {Arch(cell.op_indices[:edge] + (op,) + cell.op_indices[edge + 1:])
                for edge in range(len(EDGES)) for op in range(len(OP_NAMES)) if op != cell.op_indices[edge]}
    assert len(found) == 24 and set(found) == expected


def test_every_proposal_after_a_start_is_a_one_edge_neighbour_and_none_is_proposed_twice():
    search, events = climb(seed=0, trials=800)
    starts = [cell for cell, current in events if current is None]
    for cell, current in events:
        if current is not None:
            assert edits(cell, current[0]) == 1
    assert len({str(cell) for cell, _ in events}) == len(events)
    assert len(starts) == len(search.optima) + 1 >= 4  # one start per restart (start_cells=1)


def test_the_first_neighbourhood_is_every_neighbour_of_the_start_in_a_seeded_random_order():
    for seed in range(3):
        events = climb(seed, trials=25, score=lambda arch: 0.0)[1]
        start, order = events[0][0], [cell for cell, _ in events[1:]]
        assert sorted(order, key=str) == sorted(neighbours(NB201Space(), start), key=str)
        assert order != neighbours(NB201Space(), start)  # not the enumeration order (1 in 24! to fail by chance)


def plateau(arch):
    """Up to three 3x3 convolutions count; beyond, ties (a plateau of local optima)."""
    return min(arch.op_indices.count(3), 3)


@pytest.mark.parametrize("score", [trap, plateau])
def test_it_moves_to_the_best_neighbour_only_if_it_improves_and_restarts_only_at_a_local_optimum(score):
    search, events = climb(seed=3, trials=800, score=score)
    path = [current for _, current in events]
    moves = [(a, b) for a, b in zip(path, path[1:]) if a is not None and b is not None and a[0] != b[0]]
    assert len(moves) >= 10
    for (cell, value), (after, after_value) in moves:
        around = [score(n) for n in neighbours(search.space, cell)]
        assert after in neighbours(search.space, cell)
        assert after_value == score(after) == max(around) > value
    assert len(search.optima) >= 3
    for cell, value in search.optima:  # a restart happens only where no neighbour beats the cell
        assert value >= max(score(n) for n in neighbours(search.space, cell))
        assert score is plateau or cell in (CONV3, POOL)


@pytest.mark.parametrize("seed", range(6))
def test_it_reaches_the_global_optimum_of_a_known_function(seed):
    result = run_trials(create_optimizer("local_search", NB201Space(), seed), Scored(NB201Space(), trap),
                        max_trials=1500)
    assert result.best == POOL and result.best_score == 6.5


def test_a_tiny_space_is_searched_cell_by_cell_and_then_the_search_ends():
    space = HyperSpace.from_dict({name: {"type": "categorical", "choices": [0, 1, 2]} for name in "abc"})
    lowest = Scored(space, lambda candidate: -sum(candidate.values()))
    result = run_trials(create_optimizer("local_search", space, 0, start_cells=2), lowest, max_trials=100)
    assert result.stopped == "exhausted" and len(result.trials) == 27
    assert {tuple(t.candidate.values()) for t in result.trials} == set(itertools.product([0, 1, 2], repeat=3))
    assert result.best == {"a": 0, "b": 0, "c": 0}


@pytest.mark.slow
def test_over_100_runs_at_30000_seconds_it_beats_random_search_clearly(bench):
    found = {}
    for algo in ("random", "local_search"):
        runs = []
        for seed in range(100):
            evaluator = BenchmarkEvaluator(bench, "cifar10", seed=seed)
            runs.append(known_accuracy(str(run_trials(create_optimizer(algo, evaluator.space, seed), evaluator,
                                                      time_budget=30000.0).best)))
        found[algo] = np.mean(runs)
    assert found["local_search"] > found["random"] + 5, found
