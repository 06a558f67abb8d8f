"""The built-in digits benchmark is queried with the protocol of the real one.

The digits settings mirror the real ones (digits-valid ~ cifar10-valid, digits ~ cifar10, digits-halves ~
cifar100).  Each test holds one benchmark twice, with identical numbers under the cifar names and under
the digits names, and checks that every ``NB201Benchmark`` method and every documented ``NASBench201API``
method answers the same on both (values, key order, printed text and errors, the names swapped): a
synthetic benchmark, and a tiny one trained on digits by the builder.
"""
from __future__ import annotations

import contextlib
import copy
import io
import random
import re
import warnings
from itertools import product
from pathlib import Path

import numpy as np
import pytest

from autodl.benchmarks.nb201 import (ArchResults, BenchmarkError, NASBench201API, NB201Benchmark, ResultsCount,
                                     convert, remap_dataset_set_names)
from autodl.benchmarks.nb201.common import (REPORTING, SETTING_LAYOUTS, SETTINGS, SIMULATE_DATASETS, resolve_split,
                                            set_layout)
from autodl.benchmarks.nb201.modern import METRICS, REPORT_SPLIT
from autodl.benchmarks.nb201.synthetic import make_benchmark

ROOT = Path(__file__).resolve().parents[1]
DIGITS = {"cifar10-valid": "digits-valid", "cifar10": "digits", "cifar100": "digits-halves"}
"""Each real setting and the digits setting that mirrors it."""
SWAP = {**DIGITS, **{digits: cifar for cifar, digits in DIGITS.items()}}
_NAMES = re.compile("|".join(sorted(map(re.escape, SWAP), key=len, reverse=True)))
SPLITS = ("train", "valid", "test", "x-valid", "x-test", "ori-test", "valtest", "nope")


# ------------------------------------------------------------------------------------------ helpers
def renamed(benchmark: dict, mapping: dict[str, str]) -> dict:
    """A copy of an official-layout benchmark dict with its settings renamed (and those not in ``mapping`` dropped)."""
    out = copy.deepcopy(benchmark)
    for record in out["arch2infos"].values():
        for state in record.values():
            state["dataset_seed"] = {mapping[name]: seeds for name, seeds in state["dataset_seed"].items()
                                     if name in mapping}
            results = {}
            for (name, seed), run in state["all_results"].items():
                if name in mapping:
                    run["name"] = mapping[name]
                    results[(mapping[name], seed)] = run
            state["all_results"] = results
    return out


def normalised(text: str, swap: bool) -> str:
    """``text`` with every cifar setting name and its digits twin swapped (if ``swap``), the padding of the summary
    columns collapsed, and lists after 'expected one of' sorted (they may hold names of both kinds)."""
    if swap:
        text = _NAMES.sub(lambda match: SWAP[match.group()], text)
    text = re.sub(r" {2,}", " ", text)
    return re.sub(r"expected one of (.*?)(;|$)",
                  lambda m: "expected one of " + ", ".join(sorted(m.group(1).split(", "))) + m.group(2), text, flags=re.M)


def canonical(value, swap: bool):
    """A comparable form of a query's answer: objects as their state, dicts as ordered pairs, names swapped."""
    if isinstance(value, str):
        return normalised(value, swap)
    if isinstance(value, (ArchResults, ResultsCount)):
        return canonical(value.state_dict(), swap)
    if isinstance(value, dict):
        return ("dict", [(canonical(k, swap), canonical(v, swap)) for k, v in value.items()])
    if isinstance(value, (list, tuple)):
        return type(value)(canonical(item, swap) for item in value)
    return value


def outcome(call, side, swap: bool):
    """What ``call(side)`` gives: its value or error (type and message), its printed text and warnings."""
    random.seed(1234)
    printed = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(printed):
        warnings.simplefilter("always")
        try:
            result = ("value", call(side))
        except BenchmarkError as error:
            result = ("error", str(error))
    return canonical((result, printed.getvalue(), [str(w.message) for w in caught]), swap)


def bench_calls(names: tuple[str, str, str], epochs: int):
    """Every NB201Benchmark method on the three settings (or their reporting names) and a few bad names."""
    valid_setting, full, halves = names
    datasets = (valid_setting, full, halves, "ImageNet16-120", "mnist")
    seeds = ("mean", "all", 777, 111, "random")
    for index, hp in product((3, 6), ("12", "200")):  # 6 has no record
        for dataset in datasets:
            yield "seeds", lambda b, i=index, d=dataset, h=hp: b.seeds(i, d, h)
            yield "cost", lambda b, i=index, d=dataset, h=hp: b.cost(i, d, h)
            yield "final_accuracy", lambda b, i=index, d=dataset, h=hp: b.final_accuracy(i, d, h)
            for split in SPLITS:
                protocols = [(metric, "mean", None) for metric in METRICS]
                protocols += [("accuracy", seed, epoch) for seed in seeds for epoch in (None, 0, epochs - 1, epochs)]
                protocols += [("total-time", "all", epochs - 1), ("epoch-time", 777, 0)]
                for metric, seed, epoch in protocols:
                    yield "metric", lambda b, i=index, d=dataset, s=split, m=metric, h=hp, sd=seed, e=epoch: b.metric(
                        i, d, s, m, h, sd, e, rng=np.random.default_rng(0))
                for metric, seed in [(metric, "all") for metric in METRICS] + [("accuracy", "mean"), ("loss", 777)]:
                    yield "curve", lambda b, i=index, d=dataset, s=split, m=metric, h=hp, sd=seed: b.curve(i, d, s, m, h, sd)
    for dataset, hp in product(datasets, ("12", "200")):
        yield "datasets", lambda b, h=hp: b.datasets(h)
        yield "final_accuracies", lambda b, d=dataset, h=hp: b.final_accuracies(d, h)
        for kind in ("flops", "params", "size"):
            yield "cost_all", lambda b, d=dataset, k=kind, h=hp: b.cost_all(d, k, h)
        for split in SPLITS:
            for metric, seed in [(metric, "mean") for metric in METRICS] + [("accuracy", 777), ("accuracy", 111)]:
                yield "metric_all", lambda b, d=dataset, s=split, m=metric, h=hp, sd=seed: b.metric_all(d, s, m, h, sd)
            for metric, caps in [(metric, (None, None)) for metric in METRICS] + [
                    ("accuracy", caps) for caps in ((1e9, 1e9), (0.0, None), (None, 0.0))]:
                yield "find_best", lambda b, d=dataset, s=split, m=metric, h=hp, c=caps: b.find_best(d, s, h, *c, metric=m)


def api_calls(names: tuple[str, str, str], epochs: int, arch: str):
    """Every documented NASBench201API method on the three settings (or their reporting names) and bad names."""
    valid_setting, full, halves = names
    datasets = (valid_setting, full, halves, "ImageNet16-120", "mnist")
    yield "len", lambda a: (len(a), a[2], list(a)[:3], a.arch(1), a.available_hps)
    yield "random", lambda a: a.random()
    yield "query_index_by_arch", lambda a: (a.query_index_by_arch(arch), a.query_index_by_arch(4), a.query_index_by_arch("|x~0|"))
    for index in (0, 3, 6, 99):
        yield "show", lambda a, i=index: a.show(i)
        for hp in ("12", "200", None):
            yield "query_by_arch", lambda a, i=index, h=hp: a.query_by_arch(i, h)
            yield "query_info_str_by_arch", lambda a, i=index, h=hp: a.query_info_str_by_arch(i, h or "12")
            yield "query_meta_info_by_index", lambda a, i=index, h=hp: a.query_meta_info_by_index(i, h or "12")
            for dataset in datasets + (None,):
                yield "query_by_index", lambda a, i=index, d=dataset, h=hp: a.query_by_index(i, d, h or "12")
    yield "show all", lambda a: a.show(-1)
    for index, dataset, hp in product((0, 3, 6), datasets, ("12", "200")):
        for iepoch, is_random in product((None, 0, epochs - 1, epochs), (True, False, 777, 111, 5)):
            yield "get_more_info", lambda a, i=index, d=dataset, e=iepoch, h=hp, r=is_random: a.get_more_info(i, d, e, h, r)
        yield "get_cost_info", lambda a, i=index, d=dataset, h=hp: a.get_cost_info(i, d, h)
        yield "get_latency", lambda a, i=index, d=dataset, h=hp: a.get_latency(i, d, h)
        yield "get_net_config", lambda a, i=index, d=dataset: a.get_net_config(i, d)
        for seed in (None, 777):
            yield "get_net_param", lambda a, i=index, d=dataset, s=seed, h=hp: a.get_net_param(i, d, s, h)
        for iepoch, account in product((None, epochs - 1), (True, False)):
            yield "simulate_train_eval", lambda a, i=index, d=dataset, e=iepoch, h=hp, t=account: (
                a.simulate_train_eval(i, d, e, h, t), a.used_time)
    for dataset, hp in product(datasets, ("12", "200")):
        yield "statistics", lambda a, d=dataset, h=hp: a.statistics(d, h)
        for split in SPLITS:
            for caps in ((None, None), (1e9, 1e9), (0.0, None), (None, 0.0)):
                yield "find_best", lambda a, d=dataset, s=split, h=hp, c=caps: a.find_best(d, s, *c, hp=h)
    yield "reset_time", lambda a: (a.reset_time(), a.used_time)
    yield "clear_params", lambda a: (a.clear_params(0), a.clear_params(0, "12"), a.query_by_index(0, None, "12"))


def assert_same_protocol(cifar: dict, digits: dict, tmp_path: Path, epochs: tuple[int, int]) -> None:
    """Both benchmarks (same numbers, cifar vs digits names) answer every query the same, through every path."""
    stores = {name: convert(copy.deepcopy(benchmark), tmp_path / name / "bench.store")
              for name, benchmark in (("cifar", cifar), ("digits", digits))}
    arch = cifar["meta_archs"][3]

    def check(calls_cifar, calls_digits, side_cifar, side_digits) -> int:
        count = 0
        for (kind, on_cifar), (_, on_digits) in zip(calls_cifar, calls_digits, strict=True):
            np.testing.assert_equal(outcome(on_cifar, side_cifar, True), outcome(on_digits, side_digits, False),
                                    err_msg=f"{kind} answers differently on the digits names")
            count += 1
        return count

    cifar_names, digits_names = ("cifar10-valid", "cifar10", "cifar100"), tuple(DIGITS.values())
    # NB201Benchmark answers from a store (in memory for a dict: the same code); NASBench201API also from records
    assert check(bench_calls(cifar_names, epochs[0]), bench_calls(digits_names, epochs[0]),
                 NB201Benchmark.open(stores["cifar"]), NB201Benchmark.open(stores["digits"])) > 1000
    for opened in (lambda which: NASBench201API(stores[which], verbose=False), lambda which: NASBench201API(
            copy.deepcopy(cifar if which == "cifar" else digits), verbose=False)):
        assert check(api_calls(cifar_names, epochs[0], arch), api_calls(digits_names, epochs[0], arch),
                     opened("cifar"), opened("digits")) > 500


# -------------------------------------------------------------------------------------- the table
def test_the_protocol_table_is_consistent():
    from autodl.data import BENCHMARK_SETTINGS

    assert set(SETTINGS) == set(BENCHMARK_SETTINGS)
    assert SIMULATE_DATASETS == tuple(REPORTING) and REPORT_SPLIT == {name: s.test for name, s in REPORTING.items()}
    for cifar, digits in DIGITS.items():
        assert SETTING_LAYOUTS[digits] == SETTING_LAYOUTS[cifar]
    for name, splits in REPORTING.items():
        # simulate_train_eval reads get_more_info(valid setting)['valid-...']: the same set as REPORTING's
        assert dict(set_layout(splits.valid[0]).sets)["valid"] == splits.valid[1]
        assert dict(set_layout(splits.test[0]).sets)["test"] == splits.test[1]
        assert remap_dataset_set_names(name, "valid") == splits.valid == resolve_split(name, "valid")
        assert remap_dataset_set_names(name, "test") == splits.test == resolve_split(name, "test")
        assert remap_dataset_set_names(name, "train") == (splits.test[0], "train")
    assert REPORTING["digits"] == (("digits-valid", "x-valid"), ("digits", "ori-test"))
    assert REPORTING["digits-halves"] == (("digits-halves", "x-valid"), ("digits-halves", "x-test"))
    assert resolve_split("digits-valid", "valid") == ("digits-valid", "x-valid")
    assert resolve_split("digits-valid", "test") == ("digits-valid", "ori-test")
    assert remap_dataset_set_names("digits-valid", "valid") == ("digits-valid", "valid")  # the official v2 rule


def test_layouts_name_the_sets_the_builder_evaluates():
    from autodl.benchmarks.nb201.builder import open_setting

    for setting in DIGITS.values():
        sets = [name for _, name in set_layout(setting).sets]
        assert sorted(sets) == sorted(open_setting(setting, digits_size=8).evaluations)


# ---------------------------------------------------------------------------------- synthetic twin
def test_digits_names_answer_like_the_cifar_names_of_a_synthetic_benchmark(tmp_path):
    epochs = (3, 4)
    cifar = renamed(make_benchmark(5, 7, epochs=epochs, seed=3), {name: name for name in DIGITS})
    assert_same_protocol(cifar, renamed(cifar, DIGITS), tmp_path, epochs)


def test_unknown_split_errors_list_only_names_that_work(tmp_path):
    cifar = renamed(make_benchmark(3, 3, epochs=(3, 4), seed=4), {name: name for name in DIGITS})
    bench = NB201Benchmark.open(renamed(cifar, DIGITS))
    for dataset in ("digits-valid", "digits", "digits-halves"):
        with pytest.raises(BenchmarkError) as caught:
            bench.metric(0, dataset, "nope", hp="200")
        message = str(caught.value)
        assert message.startswith(f"unknown split 'nope' for {dataset}; expected train, valid (= ")
        listed = re.sub(r" \(=[^)]*\)", "", message.split("expected ", 1)[1]).replace(" or ", ", ").split(", ")
        assert {"train", "valid", "test"} <= set(listed)
        for split in listed:
            assert bench.metric(0, dataset, split, hp="200") is not None
    with pytest.raises(BenchmarkError, match=r"^unknown set 'test' for digits-valid; expected train, valid \(= x-valid\), "
                                             r"x-valid or ori-test$"):
        NASBench201API(NB201Benchmark.open(renamed(cifar, DIGITS)).store).find_best("digits-valid", "test", hp="200")
    only_halves = renamed(cifar, {"cifar100": "digits-halves"})
    with pytest.raises(BenchmarkError, match="split 'valid' of digits is recorded on digits-valid, which this benchmark "
                                             "does not have for hp 200; it has digits-halves"):
        NB201Benchmark.open(only_halves).metric(0, "digits", "valid", hp="200")


# ------------------------------------------------------------------------------------- built twin
@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Three architectures trained for one epoch on the three digits settings, both recipes, merged."""
    from autodl.benchmarks.nb201.builder import BuildConfig, Runtime, build
    from autodl.benchmarks.nb201.merge import build_store, find_result_files, merge_results

    folder = tmp_path_factory.mktemp("nb201-digits")
    for hp, seeds in (("12", (111, 777)), ("200", (777,))):
        config = BuildConfig(settings=tuple(DIGITS.values()), recipes_dir=ROOT / "configs" / "nas-benchmark", hp=hp,
                             seeds=seeds, channel=2, num_cells=1, epochs=1, batch_size=128, test_batch_size=128,
                             digits_size=8)
        build([0, 3, 5], config, Runtime(workers=0, verbose=False, progress=False), folder / "results")
    store = build_store([folder / "results"], folder / "store")
    return store, merge_results(find_result_files([folder / "results"]))


@pytest.mark.slow
def test_digits_names_answer_like_the_cifar_names_on_a_built_benchmark(built, tmp_path):
    _, digits = built
    cifar = renamed(digits, SWAP)
    assert_same_protocol(cifar, digits, tmp_path, (1, 1))


@pytest.mark.slow
def test_the_demo_store_answers_the_documented_queries(built, capsys):
    store, _ = built
    api = NASBench201API(store, verbose=False)
    bench = NB201Benchmark.open(store)
    index = api.query_index_by_arch(api.arch(3))
    assert index == 3
    run = api.query_meta_info_by_index(3, "200")
    seed_one = {setting: run.query(setting, 777) for setting in DIGITS.values()}
    # valid/test of the reporting names read the records of the paper's protocol
    assert bench.metric(3, "digits", "valid") == seed_one["digits-valid"].get_eval("x-valid")["accuracy"]
    assert bench.metric(3, "digits", "test") == seed_one["digits"].get_eval("ori-test")["accuracy"]
    assert bench.final_accuracy(3, "digits") == seed_one["digits"].get_eval("ori-test")["accuracy"]
    assert bench.final_accuracy(3, "digits-halves") == seed_one["digits-halves"].get_eval("x-test")["accuracy"]
    assert bench.metric(3, "digits-halves", "valid") == seed_one["digits-halves"].get_eval("x-valid")["accuracy"]
    assert bench.metric(3, "digits-valid", "test") == seed_one["digits-valid"].get_eval("ori-test")["accuracy"]
    np.testing.assert_array_equal(bench.final_accuracies("digits")[[0, 3, 5]],
                                  [api.get_more_info(i, "digits", hp="200", is_random=False)["test-accuracy"] for i in (0, 3, 5)])
    assert api.find_best("digits", "valid", hp="200") == api.find_best("digits-valid", "x-valid", hp="200")
    assert bench.find_best("digits", "test")[0] == api.find_best("digits", "test", hp="200")[0]
    accuracy, latency, cost, total = api.simulate_train_eval(index, "digits", hp="12")
    assert accuracy in [run_.get_eval("x-valid")["accuracy"] for run_ in
                        api.query_by_index(index, "digits-valid", hp="12").values()]
    assert latency > 0 and cost > 0 and total == cost
    assert api.statistics("digits-valid", "12") == {2: 3, 0: len(api) - 3}
    text = api.query_by_arch(index, "200")
    assert "digits-valid   train : [" in text and ", valid : [" in text and "digits         train" in text
    api.show(index)
    assert "digits-halves  train : [" in capsys.readouterr().out
    # the demo script's own queries
    best, best_accuracy = api.find_best("digits-valid", "x-valid", hp="12")
    assert best in (0, 3, 5) and best_accuracy > 0
    assert set(api.get_more_info(best, "digits-valid", hp="12", is_random=False)) >= {"valid-accuracy", "test-accuracy"}
    assert api.get_cost_info(best, "digits-halves", hp="200")["flops"] > 0
