"""The zero-cost warm start of REA and local search (multitrial/warmstart.py): the first cells are the proxy's top
ones, scoring is charged to the budget only with a wall-time evaluator, a resume ranks from warm_start.json without
scoring again, a search with a warm start but no scorer is one clear error, and the command line's --warm-start
ranks by --proxy."""
import json
import time
from importlib.util import module_from_spec, spec_from_file_location
from pathlib import Path

import pytest

from autodl.algorithms.multitrial import Evaluation, Evaluator, NB201Space, create_optimizer, run_trials
from autodl.algorithms.multitrial.warmstart import WARM_START_FILE
from autodl.cli import run_main
from autodl.errors import ConfigError
from autodl.spaces.nb201 import Arch

ROOT = Path(__file__).resolve().parents[1]
WARM_ALGOS = ["rea", "local_search"]


def conv_score(arch):
    """A known proxy: 3x3 convolutions count most, then 1x1 (op indices 3 and 2), then the edge order breaks ties."""
    ops = arch.op_indices
    return 10 * ops.count(3) + 3 * ops.count(2) + sum(op * 0.01 ** (k + 1) for k, op in enumerate(ops))


class Known(Evaluator):
    """Scores a cell by ``conv_score``; each trial costs 100 s (simulated, or wall time when ``real_time``)."""

    def __init__(self, real_time=False):
        self.space, self.real_time = NB201Space(), real_time

    def evaluate(self, candidate, budget, trial):
        return Evaluation(conv_score(candidate), 100.0)


def asked(optimizer, count, score=conv_score):
    """The first ``count`` proposals of ``optimizer``, each told ``score`` at once."""
    cells = []
    for _ in range(count):
        proposal = optimizer.ask()
        optimizer.tell(proposal, score(proposal.candidate))
        cells.append(proposal.candidate)
    return cells


def test_rea_starts_its_population_from_the_proxys_best_cells():
    rea = create_optimizer("rea", NB201Space(), 3, warm_start=50, population=10)
    result = run_trials(rea, Known(), max_trials=12, warm_scorer=conv_score)
    candidates = list(rea.warm_start.candidates)
    assert len({str(c) for c in candidates}) == 50
    top = sorted(candidates, key=conv_score, reverse=True)[:10]
    assert [trial.candidate for trial in result.trials[:10]] == top
    assert all(trial.candidate not in candidates or trial.candidate in top for trial in result.trials[10:])


def test_local_search_starts_and_restarts_from_the_proxys_best_unscored_cells():
    search = create_optimizer("local_search", NB201Space(), 5, warm_start=40)
    run_trials(search, Known(), max_trials=1, warm_scorer=lambda arch: -conv_score(arch))  # the proxy's worst first
    ranked = sorted(search.warm_start.candidates, key=conv_score)
    assert search.scores == {str(ranked[0]): conv_score(ranked[0])}
    # a full run: every start cell is the best warm candidate not scored before it
    search = create_optimizer("local_search", NB201Space(), 5, warm_start=40)
    search.warm_start.rank([-conv_score(c) for c in search.warm_start.candidates])
    starts, scored = [], set()
    for _ in range(400):
        proposal = search.ask()
        if search.current is None:  # a start cell
            starts.append(proposal.candidate)
            expected = next(c for c in ranked if str(c) not in scored)
            assert proposal.candidate == expected
        scored.add(str(proposal.candidate))
        search.tell(proposal, -conv_score(proposal.candidate))
    assert len(starts) >= 3 and len(search.optima) == len(starts) - 1


@pytest.mark.parametrize("algo", WARM_ALGOS)
def test_scoring_is_free_with_the_benchmark_and_charged_with_a_wall_time_evaluator(algo, tmp_path):
    def slow(arch):
        time.sleep(0.002)
        return conv_score(arch)

    free = run_trials(create_optimizer(algo, NB201Space(), 0, warm_start=30), Known(), time_budget=1000.0,
                      warm_scorer=slow, save_dir=tmp_path / "free")
    assert free.total_cost == sum(t.cost for t in free.trials) == 1000.0
    charged = run_trials(create_optimizer(algo, NB201Space(), 0, warm_start=30), Known(real_time=True),
                         time_budget=1000.0, warm_scorer=slow, save_dir=tmp_path / "charged")
    seconds = json.loads((tmp_path / "charged" / WARM_START_FILE).read_text())["seconds"]
    assert seconds >= 30 * 0.002
    assert charged.total_cost == pytest.approx(seconds + sum(t.cost for t in charged.trials))
    assert len(charged.trials) == 9  # 100 s trials after the scoring's seconds: one fewer within 1000 s


@pytest.mark.parametrize("algo", WARM_ALGOS)
def test_a_resumed_search_ranks_from_its_file_without_scoring_again(algo, tmp_path):
    first = run_trials(create_optimizer(algo, NB201Space(), 1, warm_start=20), Known(real_time=True),
                       max_trials=15, warm_scorer=conv_score, save_dir=tmp_path)

    def never(arch):
        raise AssertionError("a resumed search scored its warm start again")

    again = run_trials(create_optimizer(algo, NB201Space(), 1, warm_start=20), Known(real_time=True),
                       max_trials=15, warm_scorer=never, save_dir=tmp_path)
    assert [t.candidate for t in again.trials] == [t.candidate for t in first.trials]
    assert again.total_cost == first.total_cost


@pytest.mark.parametrize("algo", WARM_ALGOS)
def test_a_warm_start_without_a_scorer_is_one_clear_error(algo):
    with pytest.raises(ConfigError, match="warm_start=5 but the search has no zero-cost scorer") as error:
        run_trials(create_optimizer(algo, NB201Space(), 0, warm_start=5), Known(), max_trials=3)
    assert "\n" not in str(error.value)
    with pytest.raises(ConfigError, match="warm_start=-1"):
        create_optimizer(algo, NB201Space(), 0, warm_start=-1)


def test_without_a_warm_start_the_searches_are_unchanged():
    """warm_start=0 draws nothing: the same proposals as an optimiser built without the option."""
    for algo in WARM_ALGOS:
        plain, off = (create_optimizer(algo, NB201Space(), 7, **extra) for extra in ({}, {"warm_start": 0}))
        assert asked(plain, 40) == asked(off, 40)
        assert plain.warm_start is None


def test_the_warm_start_state_round_trips():
    for algo in WARM_ALGOS:
        first = create_optimizer(algo, NB201Space(), 2, warm_start=25)
        first.warm_start.rank([conv_score(c) for c in first.warm_start.candidates])
        asked(first, 12)
        second = create_optimizer(algo, NB201Space(), 9, warm_start=25)
        second.load_state_dict(json.loads(json.dumps(first.state_dict())))
        assert asked(first, 30) == asked(second, 30)
        assert isinstance(second.warm_start.candidates[0], Arch)


def test_the_command_line_warm_start_scores_with_the_proxy_and_starts_from_its_best(tmp_path):
    """exps/search-multitrial.py --warm-start: the proxy evaluator's search (whose costs are wall time) starts REA's
    population from the best of the warm-start file, whose scores are the proxy's own for those cells."""
    spec = spec_from_file_location("search_multitrial", ROOT / "exps" / "search-multitrial.py")
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.raises(SystemExit) as done:
        run_main(module.main, ["--algo", "rea", "--evaluator", "proxy", "--proxy", "naswot", "--dataset", "digits16",
                               "--proxy-batch", "16", "--channel", "4", "--num-cells", "1", "--max-trials", "6",
                               "--population", "5", "--warm-start", "12", "--quiet", "--save-dir", str(tmp_path)])
    assert done.value.code == 0
    warm = json.loads((tmp_path / WARM_START_FILE).read_text())
    ranked = sorted(zip(warm["candidates"], warm["scores"]), key=lambda pair: -pair[1])
    trials = [json.loads(line) for line in (tmp_path / "trials.jsonl").read_text().splitlines()]
    assert [(t["candidate"], t["score"]) for t in trials[:5]] == ranked[:5]
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["search_cost_s"] == pytest.approx(warm["seconds"] + sum(t["cost"] for t in trials))
