"""HPO of training recipes (autodl.hpo.recipe, exps/hpo.py): recipes from candidates, space checks, the
validation split, BOHB's epochs budget, one-line errors, and a SIGKILLed search that continues from
trials.jsonl without re-running finished trials."""
import json
import os
import signal
import subprocess
import sys
import time
from importlib.util import module_from_spec, spec_from_file_location
from pathlib import Path

import pytest

from autodl.algorithms.multitrial import HyperSpace
from autodl.engine.trial import validation_split
from autodl.cli import run_main
from autodl.config import OptimConfig, load_config
from autodl.errors import ConfigError
from autodl.hpo.recipe import RecipeEvaluator, check_recipe_space, recipe_for, tune_recipe

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "exps" / "hpo.py"
MODEL = ROOT / "configs" / "archs" / "CIFAR-SmallCNN.json"
BASE = OptimConfig(epochs=1, LR=0.1, warmup=0, momentum=0.9, nesterov=True, decay=5e-4, batch_size=64)


def test_a_candidate_replaces_recipe_keys_and_label_smoothing_switches_the_criterion():
    recipe = recipe_for(BASE, {"LR": 0.02, "batch_size": 32, "label_smooth": 0.1}, epochs=9)
    assert (recipe.LR, recipe.batch_size, recipe.label_smooth, recipe.epochs) == (0.02, 32, 0.1, 9)
    assert recipe.criterion == "SmoothSoftmax" and recipe.decay == BASE.decay and recipe.nesterov
    assert recipe_for(BASE, {"decay": 1e-3}).criterion == "Softmax"


@pytest.mark.parametrize("spec, budget_is_epochs, message", [
    ({"lr": {"type": "float", "low": 0.01, "high": 0.1}}, False, "'lr' is not a key of a training recipe"),
    ({"epochs": {"type": "int", "low": 1, "high": 5}}, True, "a multi-fidelity algorithm sets 'epochs' as its budget"),
    ({"label_smooth": {"type": "float", "low": 0.0, "high": 1.0}}, False, "label_smooth=1.0 makes an invalid recipe"),
    ({"batch_size": {"type": "categorical", "choices": [32, "big"]}}, False, "batch_size='big' makes an invalid recipe"),
])
def test_a_space_that_makes_bad_recipes_is_refused(spec, budget_is_epochs, message):
    with pytest.raises(ConfigError, match=message):
        check_recipe_space(HyperSpace.from_dict(spec, "space.json"), BASE, budget_is_epochs)


def test_datasets_without_a_search_split_validate_on_a_class_balanced_half():
    assert validation_split("digits16") is None and validation_split("cifar100") is None

    class Labelled:
        labels = [0, 1, 2] * 10

    train, valid = validation_split("ImageNet16-150")(Labelled())
    assert sorted(train + valid) == list(range(30)) and not set(train) & set(valid)
    assert [sum(Labelled.labels[i] == c for i in valid) for c in range(3)] == [5, 5, 5]


def test_bohb_budgets_are_epochs_and_trials_score_on_the_validation_split(tmp_path):
    space = HyperSpace.from_file(ROOT / "configs" / "hpo" / "lr-decay.json")
    result = tune_recipe("bohb", space, MODEL, BASE, "digits16", tmp_path, max_trials=4, options={"max_budget": 3})
    trials = [json.loads(line) for line in (tmp_path / "trials.jsonl").read_text().splitlines()]
    # Hyperband with budgets 1 and 3 (eta 3): three candidates for 1 epoch, the best of them for 3
    assert [t["budget"] for t in trials] == [1.0, 1.0, 1.0, 3.0]
    assert trials[3]["candidate"] == max(trials[:3], key=lambda t: t["score"])["candidate"]
    for t in trials:
        metrics = [json.loads(line) for line in (tmp_path / f"trial-{t['trial']}" / "metrics.jsonl").read_text().splitlines()]
        assert len(metrics) == t["budget"] and metrics[-1]["valid_top1"] == t["score"]
        assert not any(key.startswith("test_") for key in metrics[-1])
    assert result["best_budget"] == 3.0 and result["best_trial"] == 3 and result["best_valid_top1"] == trials[3]["score"]
    best = load_config(OptimConfig, tmp_path / "best-recipe.json")
    assert best.epochs == 3 and best.LR == trials[3]["candidate"]["LR"] and best.decay == trials[3]["candidate"]["decay"]


def hpo_script():
    spec = spec_from_file_location("hpo_script", SCRIPT)
    script = module_from_spec(spec)
    spec.loader.exec_module(script)
    return script


def hpo_command(save_dir, optim, *extra, space=ROOT / "configs" / "hpo" / "recipe.json"):
    return [sys.executable, str(SCRIPT), "--algo", "rea", "--space", str(space),
            "--dataset", "digits16", "--model", str(MODEL), "--optim", str(optim), "--save-dir", str(save_dir), *extra]


@pytest.mark.parametrize("workers", [1, pytest.param(2, marks=pytest.mark.slow)])
def test_a_killed_search_continues_from_trials_jsonl_without_re_running_finished_trials(tmp_path, capsys, workers):
    optim = tmp_path / "fast.json"
    optim.write_text(json.dumps({"epochs": 1, "LR": 0.1, "momentum": 0.9, "nesterov": True, "batch_size": 64}))
    run, log = tmp_path / "run", tmp_path / "run" / "trials.jsonl"
    command = hpo_command(run, optim, "--trials", "4", "--workers", str(workers))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, start_new_session=True)
    deadline = time.monotonic() + 150
    while not (log.is_file() and len(log.read_text().splitlines()) >= 2):
        assert process.poll() is None, process.stderr.read().decode()[-2000:]
        assert time.monotonic() < deadline, "no two trials finished in 150 s"
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)  # the search and its worker processes, as a killed job
    process.wait()
    assert process.returncode == -signal.SIGKILL
    logged = log.read_text().splitlines()
    finished = [json.loads(line)["trial"] for line in logged if line.endswith("}")]
    assert 2 <= len(finished) < 4  # the kill landed before the last trial was logged
    runs_before = {n: [(run / f"trial-{n}" / name).read_text() for name in ("log.txt", "metrics.jsonl")] for n in finished}

    assert hpo_script().main(command[2:]) == 0  # the same command, in this process
    after = log.read_text().splitlines()
    assert after[:len(finished)] == logged[:len(finished)] and len(after) == 4
    assert sorted(json.loads(line)["trial"] for line in after) == [0, 1, 2, 3]  # workers log as they finish
    for n, contents in runs_before.items():  # a finished trial was replayed from the log, not trained again
        assert [(run / f"trial-{n}" / name).read_text() for name in ("log.txt", "metrics.jsonl")] == contents
    lines = capsys.readouterr().out.strip().splitlines()
    assert sorted(line.split()[0] for line in lines[:-1]) == [f"trial={n}" for n in range(4)]
    assert json.loads(lines[-1])["trials"] == 4 == json.loads((run / "result.json").read_text())["trials"]


def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys):
    space = tmp_path / "space.json"
    space.write_text(json.dumps({"lr": {"type": "float", "low": 0.01, "high": 0.1, "log": True}}))
    command = hpo_command(tmp_path / "run", ROOT / "configs" / "opts" / "digits-E10-W1-COS.json", "--trials", "2", space=space)
    with pytest.raises(SystemExit) as stop:
        run_main(hpo_script().main, command[2:])
    error = capsys.readouterr().err
    assert stop.value.code == 2 and error.count("\n") == 1
    assert error.startswith("error: ") and "'lr' is not a key of a training recipe" in error
    assert not (tmp_path / "run").exists()


def test_every_flag_of_both_entry_points_is_documented():
    for name in ("hpo.py", "hpo-cg.py"):
        spec = spec_from_file_location(name.replace("-", "_")[:-3], ROOT / "exps" / name)
        script = module_from_spec(spec)
        spec.loader.exec_module(script)
        assert all(action.help for action in script.build_parser()._actions), name


def test_a_trial_run_directory_resumes_instead_of_training_again(tmp_path):
    evaluator = RecipeEvaluator(HyperSpace.from_file(ROOT / "configs" / "hpo" / "lr-decay.json"),
                                json.loads(MODEL.read_text()), BASE, "digits16", tmp_path, threads=1)
    candidate = {"LR": 0.1, "decay": 1e-4}
    first = evaluator.evaluate(candidate, 2, 0)
    metrics = (tmp_path / "trial-0" / "metrics.jsonl").read_text()
    again = evaluator.evaluate(candidate, 2, 0)  # what a restarted search does with a trial it had not logged
    assert again.score == first.score and (tmp_path / "trial-0" / "metrics.jsonl").read_text() == metrics
    assert "resumed from" in (tmp_path / "trial-0" / "log.txt").read_text().splitlines()[-1]
