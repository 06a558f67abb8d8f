"""The NAS-Bench-201 builder: result files in the official ResultsCount layout, merge into a store that the
API reads, resume after a kill, shards, and one-line errors.  Tiny: 8x8 digits, C=2, N=1, 2 epochs."""
import json
import re
import sys
from importlib.util import module_from_spec, spec_from_file_location
from itertools import chain
from pathlib import Path

import numpy as np
import pytest
import torch

from autodl.benchmarks.nb201 import NASBench201API, Store
from autodl.benchmarks.nb201.builder import (BuildConfig, BuildError, Runtime, build, load_result, open_setting,
                                             result_path, select_indexes, torchrun_process)
from autodl.benchmarks.nb201.merge import build_store, find_result_files, merge_results
from autodl.cli import run_main
from autodl.data.loader import make_loader
from autodl.engine.classification import evaluate
from autodl.engine.flops import get_model_infos
from autodl.models import create_model
from autodl.spaces.nb201 import index_to_arch

from helpers import Kill, kill_and_resume

ROOT = Path(__file__).resolve().parents[1]
RECIPES = ROOT / "configs" / "nas-benchmark"
ARCHS = (0, 9)
SETTINGS = ("digits-valid", "digits-halves")
RESULTS_COUNT_KEYS = {"name", "net_state_dict", "train_acc1es", "train_acc5es", "train_losses", "train_times",
                      "arch_config", "params", "flop", "seed", "epochs", "latency", "eval_names", "eval_acc1es",
                      "eval_times", "eval_losses"}
FLAGS = ["--hp", "12", "--seeds", "111", "--settings", *SETTINGS, "--channel", "2", "--num-cells", "1", "--epochs", "2",
         "--batch-size", "128", "--test-batch-size", "64", "--digits-size", "8", "--workers", "0", "--quiet"]


def load_script():
    spec = spec_from_file_location("nb201_build", ROOT / "exps" / "NAS-Bench-201" / "build.py")
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def config() -> BuildConfig:
    return BuildConfig(settings=SETTINGS, recipes_dir=RECIPES, hp="12", seeds=(111,), channel=2, num_cells=1,
                       epochs=2, batch_size=128, test_batch_size=64, digits_size=8)




@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """An uninterrupted build through the command line, merged into a store and an official-layout .pth."""
    folder = tmp_path_factory.mktemp("nb201-build")
    script = load_script()
    arch_flags = ["--arch-index", *map(str, ARCHS)]
    assert script.main(["train", "--save-dir", str(folder / "results"), *arch_flags, *FLAGS]) == 0
    assert script.main(["merge", "--results", str(folder / "results"), "--out", str(folder / "store"),
                        "--official", str(folder / "official.pth"), "--archive", str(folder / "archive")]) == 0
    return folder


def test_result_file_is_the_official_results_count_layout(built):
    path = result_path(built / "results", "12", 9, 111)
    assert path.name == "arch-000009-seed-111.pth"
    raw = torch.load(path, weights_only=True)
    result = load_result(path)
    assert raw.keys() == result.keys()
    assert (result["arch_index"], result["seed"], result["hp"], result["finished"]) == (9, 111, "12", True)
    assert result["arch_str"] == str(index_to_arch(9))
    assert result["datasets"] == list(SETTINGS)
    orders = {"digits-valid": ["x-valid", "ori-test"], "digits-halves": ["ori-test", "x-valid", "x-test"]}
    for setting, state in result["results"].items():
        assert set(state) == RESULTS_COUNT_KEYS
        assert state["name"] == setting and state["seed"] == 111 and state["epochs"] == 2
        assert state["eval_names"] == orders[setting]
        for key in ("train_acc1es", "train_acc5es", "train_losses", "train_times"):
            assert list(state[key]) == [0, 1] and all(isinstance(v, float) for v in state[key].values())
        assert all(state["train_acc5es"][e] >= state["train_acc1es"][e] for e in (0, 1))
        keys = [f"{name}@{epoch}" for name in orders[setting] for epoch in (0, 1)]
        for key in ("eval_acc1es", "eval_losses", "eval_times"):
            assert list(state[key]) == keys
        assert list(result["eval_acc5es"][setting]) == keys
        assert state["arch_config"] == {"channel": 2, "num_cells": 1, "arch_str": result["arch_str"], "class_num": 10}
        model = create_model({"name": "infer.tiny", "C": 2, "N": 1, "arch_str": result["arch_str"], "num_classes": 10})
        assert (state["flop"], state["params"]) == get_model_infos(model, (1, 3, 8, 8))
        # 64-image batches: 360 + 360 (digits-valid) or 360 + 180 + 180 images -> 10 or 9 full batches, first dropped
        assert len(state["latency"]) == {"digits-valid": 9, "digits-halves": 8}[setting]
        assert all(0 < value < 5 for value in state["latency"])
        # the stored weights are the final ones: re-evaluating them gives the recorded last-epoch accuracy
        model.load_state_dict(state["net_state_dict"])
        data = open_setting(setting, digits_size=8)
        scores = evaluate(model, make_loader(data.evaluations["ori-test"], 64, shuffle=False),
                          torch.nn.CrossEntropyLoss(), torch.device("cpu"))
        assert scores["top1"] == pytest.approx(state["eval_acc1es"]["ori-test@1"], abs=1e-9)
        assert scores["loss"] == pytest.approx(state["eval_losses"]["ori-test@1"], rel=1e-6)


def test_merged_store_answers_with_the_recorded_numbers(built):
    run = load_result(result_path(built / "results", "12", 0, 111))["results"]
    for source in (built / "store", built / "official.pth"):
        api = NASBench201API(str(source), verbose=False)
        assert api.evaluated_indexes == list(ARCHS) and len(api) == 15625
        assert api.avaliable_hps == (["12"] if source.is_dir() else ["12", "200"])  # the .pth has empty 'full' records
        valid, halves = run["digits-valid"], run["digits-halves"]
        info = api.get_more_info(0, "digits-valid", hp="12", is_random=111)
        assert info["train-accuracy"] == valid["train_acc1es"][1] and info["train-loss"] == valid["train_losses"][1]
        assert info["train-all-time"] == pytest.approx(valid["train_times"][0] + valid["train_times"][1], rel=1e-12)
        assert info["valid-accuracy"] == valid["eval_acc1es"]["x-valid@1"]
        assert info["test-accuracy"] == valid["eval_acc1es"]["ori-test@1"]  # digits-valid reads like cifar10-valid
        info = api.get_more_info(0, "digits-halves", iepoch=0, hp="12", is_random=111)
        for prefix, name in (("valid", "x-valid"), ("test", "x-test"), ("valtest", "ori-test")):
            assert info[f"{prefix}-accuracy"] == pytest.approx(halves["eval_acc1es"][f"{name}@0"], rel=1e-6)
            assert info[f"{prefix}-loss"] == pytest.approx(halves["eval_losses"][f"{name}@0"], rel=1e-6)
        cost = api.get_cost_info(0, "digits-halves", hp="12")
        assert (cost["flops"], cost["params"]) == (halves["flop"], halves["params"])
        assert cost["latency"] == pytest.approx(np.mean(halves["latency"]), rel=1e-12)
        assert api.get_net_config(0, "digits-valid") == {"name": "infer.tiny", "C": 2, "N": 1,
                                                         "arch_str": str(index_to_arch(0)), "num_classes": 10}
    official = torch.load(built / "official.pth", weights_only=True)
    assert set(official) == {"meta_archs", "arch2infos", "evaluated_indexes", "total_archs"}
    record = official["arch2infos"][0]
    assert set(record) == {"less", "full"} and record["full"]["all_results"] == {}
    assert record["less"]["dataset_seed"] == {"digits-valid": [111], "digits-halves": [111]}
    assert set(record["less"]["all_results"]) == {("digits-valid", 111), ("digits-halves", 111)}
    assert record["less"]["all_results"][("digits-valid", 111)]["net_state_dict"] is None


def test_archive_files_reload_with_their_weights(built):
    assert sorted(path.name for path in (built / "archive").iterdir()) == ["000000-FULL.pth", "000009-FULL.pth"]
    record = torch.load(built / "archive" / "000009-FULL.pth", weights_only=True)
    assert set(record) == {"less", "full"} and record["less"]["arch_index"] == 9
    api = NASBench201API(str(built / "store"), verbose=False)
    api.reload(built / "archive", 9)
    weights = api.get_net_param(9, "digits-halves", 111, hp="12")
    recorded = load_result(result_path(built / "results", "12", 9, 111))["results"]["digits-halves"]["net_state_dict"]
    assert weights.keys() == recorded.keys() and len(weights) > 5
    assert all(torch.equal(weights[key], recorded[key]) for key in weights)


def _arrays(folder: Path) -> dict[str, np.ndarray]:
    return {str(path.relative_to(folder)): np.load(path) for path in sorted(folder.rglob("*.npy"))}


def test_merging_twice_gives_identical_stores(built, tmp_path):
    again = build_store([built / "results"], tmp_path / "again")
    first, second = _arrays(built / "store"), _arrays(again)
    assert first.keys() == second.keys() and len(first) > 10
    for name in first:
        np.testing.assert_array_equal(first[name], second[name])
    index = json.loads((again / "index.json").read_text())
    assert index == json.loads((built / "store" / "index.json").read_text())


def _comparable(store: Store) -> dict[str, np.ndarray]:
    """Every array of the store except measured times (they differ from one run to the next)."""
    arrays = {"evaluated": store.evaluated}
    for hp in store.hps:
        for dataset in store.datasets(hp):
            table = store.table(hp, dataset)
            keep_curves = [i for name, i in table.curve_index.items() if not name.endswith("-time")]
            keep_final = [i for name, i in table.final_index.items() if "time" not in name]
            for name, array in (("seeds", table.seeds), ("epochs", table.run_epochs), ("config", table.config),
                                ("curves", table.curves[..., keep_curves]), ("final", table.final[keep_final]),
                                ("cost", table.cost[:2])):
                arrays[f"{hp}/{dataset}/{name}"] = np.asarray(array)
    return arrays


def test_a_build_killed_by_sigkill_inside_an_architecture_resumes_it_and_merges_to_the_same_store(tmp_path):
    """Killed inside the 2nd epoch of architecture 9's first setting (architecture 0 is finished): the
    restarted build skips architecture 0, resumes that setting from its epoch checkpoint, and the merged
    store equals an uninterrupted build's."""
    def command(save_dir):
        return [sys.executable, str(ROOT / "exps" / "NAS-Bench-201" / "build.py"), "train", "--save-dir", str(save_dir),
                "--arch-index", *map(str, ARCHS), *(flag for flag in FLAGS if flag != "--quiet")]

    full, killed = kill_and_resume(command, tmp_path, [Kill(5, mid_epoch=True)], run_dir=None)
    assert not (killed / "hp12" / ".work" / "arch-000009-seed-111").exists()
    resumed, uninterrupted = (_comparable(Store.open(build_store([folder], tmp_path / f"{folder.name}.store")))
                              for folder in (killed, full))
    assert resumed.keys() == uninterrupted.keys()
    for name in resumed:
        np.testing.assert_array_equal(resumed[name], uninterrupted[name], err_msg=name)


def test_finished_file_of_other_settings_is_refused(built):
    other = BuildConfig(settings=SETTINGS, recipes_dir=RECIPES, hp="12", seeds=(111,), channel=3, num_cells=1,
                        epochs=2, batch_size=128, test_batch_size=64, digits_size=8)
    with pytest.raises(BuildError, match="trained with other settings"):
        build([0], other, Runtime(verbose=False), built / "results")


def test_cover_retrains_a_finished_file(built, tmp_path):
    copy = result_path(tmp_path, "12", 0, 111)
    copy.parent.mkdir(parents=True)
    copy.write_bytes(result_path(built / "results", "12", 0, 111).read_bytes())
    events = []
    build([0], config(), Runtime(verbose=False), tmp_path, cover=True, on_done=lambda *event: events.append(event))
    assert [(index, trained) for index, _, _, trained in events] == [(0, True)]
    old, new = (load_result(path)["results"]["digits-halves"] for path in (result_path(built / "results", "12", 0, 111), copy))
    assert new["eval_acc1es"] == old["eval_acc1es"] and new["train_losses"] == old["train_losses"]
    assert new["train_times"] != old["train_times"]  # measured again


def test_merge_refuses_a_duplicate_run(built, tmp_path):
    copy = tmp_path / "copy" / "hp12" / "arch-000000-seed-111.pth"
    copy.parent.mkdir(parents=True)
    copy.write_bytes(result_path(built / "results", "12", 0, 111).read_bytes())
    with pytest.raises(BuildError, match="is in both"):
        merge_results(find_result_files([built / "results", tmp_path / "copy"]))


def test_corrupt_result_file_is_a_clear_error(tmp_path):
    path = result_path(tmp_path, "12", 0, 111)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a torch file")
    with pytest.raises(BuildError, match="cannot be read .*delete it and train it again"):
        build([0], config(), Runtime(verbose=False), tmp_path)
    with pytest.raises(BuildError, match="cannot be read"):
        merge_results([path])


@pytest.mark.parametrize("count", [1, 3, 4, 7])
def test_shards_partition_the_range(count):
    shards = [select_indexes(10, 40, (i, count)) for i in range(count)]
    assert sorted(chain.from_iterable(shards)) == list(range(10, 41))
    assert shards[0][:2] == [10, 10 + count]
    nested = [select_indexes(10, 40, (count - 1, count), (rank, 2)) for rank in range(2)]
    assert sorted(chain.from_iterable(nested)) == shards[-1] and nested[0][0] == shards[-1][0]


def test_torchrun_ranks_take_their_shard(monkeypatch):
    assert torchrun_process() == (0, 1)
    monkeypatch.setenv("WORLD_SIZE", "3")
    monkeypatch.setenv("RANK", "2")
    assert torchrun_process() == (2, 3)
    script = load_script()
    args = script.build_parser().parse_args(["train", "--save-dir", "x", "--srange", "0", "8", "--shard", "1/2"])
    assert script._indexes(args) == [5]  # shard 1/2 -> 1 3 5 7, rank 2 of 3 -> 5


@pytest.mark.parametrize("argv, message", [
    (["train", "--save-dir", "x", "--srange", "5", "2"], "error: index range 5..2 is invalid"),
    (["train", "--save-dir", "x", "--srange", "0", "3", "--shard", "4/4"], "error: shard '4/4' is out of range"),
    (["train", "--save-dir", "x", "--srange", "0", "3", "--shard", "one"], "error: shard 'one' is malformed"),
    (["train", "--save-dir", "x", "--arch-index", "15625"], "error: architecture index 15625 is invalid"),
    (["train", "--save-dir", "x", "--arch-index", "3", "3"], "are listed more than once"),
    (["train", "--save-dir", "x", "--srange", "0", "1", "--seeds", "7", "7"], "must be distinct"),
    (["train", "--save-dir", "x", "--srange", "0", "1", "--digits-size", "12"], "digits image size must be 8, 16 or 32"),
    (["train", "--save-dir", "x", "--srange", "0", "1", "--settings", "mnist"], "invalid choice: 'mnist'"),
    (["train", "--save-dir", "x"], "one of the arguments --srange --arch-index --arch is required"),
    (["merge", "--results", "missing-folder", "--out", "y"], "error: results folder missing-folder does not exist"),
])
def test_bad_arguments_are_one_line_errors(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    script = load_script()
    with pytest.raises(SystemExit) as exit_info:
        run_main(script.main, argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_every_flag_has_help(capsys):
    script = load_script()
    for command in ("train", "merge"):
        with pytest.raises(SystemExit):
            script.build_parser().parse_args([command, "--help"])
        text = capsys.readouterr().out
        sub = next(a for a in script.build_parser()._actions if a.dest == "command").choices[command]
        for action in sub._actions:  # a whole flag: --arch must not be found inside --arch-index
            assert action.help and all(re.search(rf"(?<![\w-]){flag}(?![\w-])", text)
                                       for flag in action.option_strings), action.option_strings
