"""The Ray back-end of the multi-trial driver (autodl.algorithms.multitrial.backends) on a local Ray instance,
ray.init(num_cpus=2): trials and runs go to Ray tasks and give the results of the process back-end, for
multi-trial NAS and for HPO.  Marked slow (starting Ray takes seconds); skipped where Ray is not installed
(pip install -e .[ray]) unless AUTODL_REQUIRE_RAY=1, which .ci/run sets: there a missing Ray fails."""
import json
import os
import sys
import time
import zlib
from pathlib import Path

import pytest

from autodl.algorithms.multitrial import (Backend, Evaluation, Evaluator, HyperSpace, NB201Space, create_optimizer,
                                          run_trials)
from autodl.algorithms.multitrial.backends import MissingDependencyError
from autodl.algorithms.multitrial.run import search_many
from autodl.algorithms.multitrial.settings import SearchSettings
from autodl.benchmarks.nb201.synthetic import write_synthetic_store
from autodl.config import OptimConfig
from autodl.hpo.recipe import RecipeEvaluator, tune_recipe

ROOT = Path(__file__).resolve().parents[1]
MARK = "AUTODL_TEST_IN_RAY_TASK"
SPACE = HyperSpace.from_dict({"LR": {"type": "float", "low": 0.01, "high": 0.3, "log": True}}, "lr.json")


class WhereEvaluator(Evaluator):
    """Scores 1 in a Ray task (whose environment alone holds MARK), 0 elsewhere; cost 1."""

    parallel = True
    space = SPACE

    def evaluate(self, candidate, budget, trial):
        return Evaluation(float(os.environ.get(MARK) == "1"), 1.0)


class SlowFirst(Evaluator):
    """A parallel evaluator of NB201 cells whose score is a hash of (cell, trial) and whose earlier trials of a
    batch take longer, so trials finish in another order than they were asked."""

    parallel = True
    space = NB201Space()

    def evaluate(self, candidate, budget, trial):
        time.sleep(0.3 if trial % 2 == 0 else 0.0)
        return Evaluation(float(zlib.crc32(f"{candidate}:{trial}".encode()) % 1000), 1.0 + trial % 3)


@pytest.fixture(scope="module")
def ray():
    try:
        import ray
    except ImportError:
        if os.environ.get("AUTODL_REQUIRE_RAY") == "1":
            pytest.fail("AUTODL_REQUIRE_RAY=1 but Ray is not installed; pip install -e .[ray]")
        pytest.skip("Ray is not installed (pip install -e .[ray]; AUTODL_REQUIRE_RAY=1 makes this a failure)")
    # Ray's workers run in a copy of tests/ (to import this module by name), and only they get MARK
    ray.init(num_cpus=2, logging_level="ERROR", log_to_driver=False,
             runtime_env={"env_vars": {MARK: "1"}, "working_dir": str(ROOT / "tests"), "excludes": ["__pycache__"]})
    yield ray
    ray.shutdown()


@pytest.mark.slow
def test_every_trial_of_a_parallel_search_runs_as_a_ray_task(ray, tmp_path):
    assert os.environ.get(MARK) is None
    result = run_trials(create_optimizer("random", SPACE, 0), WhereEvaluator(), max_trials=4, workers=2,
                        backend=Backend("ray"), save_dir=tmp_path)
    assert [trial.score for trial in result.trials] == [1.0] * 4
    assert len((tmp_path / "trials.jsonl").read_text().splitlines()) == 4
    assert ray.is_initialized()  # the search used the running instance and left it running


def trial_records(folder):
    return [{key: value for key, value in json.loads(line).items() if key != "wall_s"}
            for line in (folder / "trials.jsonl").read_text().splitlines()]


@pytest.mark.slow
@pytest.mark.parametrize("algo", ["rea", "bohb"])  # REA tells results in order; BOHB promotes on a stage's results
def test_the_drivers_ray_back_end_gives_the_trials_of_the_process_back_end(ray, algo, tmp_path):
    options = {"min_budget": 1, "max_budget": 9, "eta": 3} if algo == "bohb" else {"population": 4}
    logs = {}
    for name in ("process", "ray"):
        run_trials(create_optimizer(algo, SlowFirst.space, 7, **options), SlowFirst(), max_trials=12, workers=3,
                   backend=Backend(name), save_dir=tmp_path / name)
        logs[name] = trial_records(tmp_path / name)
    assert [record["trial"] for record in logs["ray"]] != list(range(12))  # logged as they finished, out of order
    assert sorted(logs["ray"], key=lambda record: record["trial"]) == sorted(logs["process"], key=lambda r: r["trial"])
    assert len({record["candidate"] for record in logs["ray"]}) > 6


@pytest.mark.slow
def test_runs_of_a_benchmark_search_on_ray_give_the_summary_of_the_process_back_end(ray, tmp_path):
    store = write_synthetic_store(tmp_path / "store", epochs=(12, 20), accuracy=lambda cell: 40 + 8 * cell.count("3x3"))
    settings = SearchSettings(algorithm="rea", dataset="cifar10", benchmark=str(store), time_budget=4000)
    summaries = {name: search_many(settings, 4, tmp_path / name, workers=2, backend=Backend(name))
                 for name in ("process", "ray")}
    assert summaries["ray"] == summaries["process"] and len(summaries["ray"]["runs"]) == 4
    assert (tmp_path / "ray" / "curves.csv").read_text() == (tmp_path / "process" / "curves.csv").read_text()


@pytest.mark.slow
def test_a_recipe_search_on_ray_scores_as_the_same_trials_trained_here(ray, tmp_path):
    base = OptimConfig(epochs=1, LR=0.1, momentum=0.9, batch_size=64)
    model = ROOT / "configs" / "archs" / "CIFAR-SmallCNN.json"
    tune_recipe("random", SPACE, model, base, "digits16", tmp_path / "ray", max_trials=2, workers=2, backend="ray")
    assert ray.is_initialized()  # the search used the running instance and left it running
    trials = [json.loads(line) for line in (tmp_path / "ray" / "trials.jsonl").read_text().splitlines()]
    local = RecipeEvaluator(SPACE, json.loads(model.read_text()), base, "digits16", tmp_path / "local", threads=1)
    for trial in trials:
        assert local.evaluate(trial["candidate"], None, trial["trial"]).score == trial["score"]


def test_the_ray_backend_without_ray_is_one_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # what an environment without Ray sees
    with pytest.raises(MissingDependencyError, match=r"pip install -e \.\[ray\] or use --backend process"):
        Backend("ray").open(2)
