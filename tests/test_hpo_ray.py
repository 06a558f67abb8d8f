"""The Ray back-end (autodl.hpo.ray_backend) on a local Ray instance, ray.init(num_cpus=2); skipped where
Ray is not installed (pip install -e .[ray]), and marked slow (starting Ray takes seconds)."""
import json
import os
import sys
from pathlib import Path

import pytest

from autodl.algorithms.multitrial import Evaluation, Evaluator, HyperSpace, create_optimizer, run_trials
from autodl.config import OptimConfig
from autodl.hpo.ray_backend import MissingDependencyError, RayEvaluator, import_ray
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


@pytest.fixture(scope="module")
def ray():
    ray = pytest.importorskip("ray")
    # Ray's workers run in a copy of tests/ (to import this module by name), and only they get MARK
    ray.init(num_cpus=2, logging_level="ERROR", log_to_driver=False,
             runtime_env={"env_vars": {MARK: "1"}, "working_dir": str(ROOT / "tests"), "excludes": ["__pycache__"]})
    yield ray
    ray.shutdown()


@pytest.mark.slow
def test_every_trial_of_a_parallel_search_runs_as_a_ray_task(ray, tmp_path):
    assert os.environ.get(MARK) is None
    evaluator = RayEvaluator.on_current_cluster(WhereEvaluator())
    result = run_trials(create_optimizer("random", SPACE, 0), evaluator, max_trials=4, workers=2, save_dir=tmp_path)
    assert [trial.score for trial in result.trials] == [1.0] * 4
    assert len((tmp_path / "trials.jsonl").read_text().splitlines()) == 4


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
        import_ray()
