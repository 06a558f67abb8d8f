"""Readers (safe loading, NATS formats), the converter CLI and the modern NB201Benchmark interface."""
from __future__ import annotations

import bz2
import importlib.util
import os
import pickle
import random
import subprocess
import sys
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch

from autodl.benchmarks.nb201 import (BenchmarkError, BenchmarkSource, NASBench201API, NB201Benchmark, ReportingWarning,
                                     Store, convert, load_bz2_pickle, load_torch_file)
from autodl.benchmarks.nb201.synthetic import make_benchmark, write_nats_archive, write_nats_file

ROOT = Path(__file__).resolve().parents[1]
EPOCHS = (12, 20)


@pytest.fixture(scope="module")
def raw():
    return make_benchmark(5, 7, style="v1_1", epochs=EPOCHS, seed=2)


@pytest.fixture(scope="module")
def folder(raw, tmp_path_factory):
    folder = tmp_path_factory.mktemp("nb201-store")
    torch.save(raw, folder / "bench.pth")
    write_nats_archive(raw, folder / "NATS-tss-v1_0-3ffb9-simple")
    write_nats_file(raw, folder / "NATS-tss-v1_0-3ffb9.pickle.pbz2")
    convert(folder / "bench.pth", folder / "bench.store")
    return folder


class Exploit:
    """An object whose unpickling would run a command."""

    def __reduce__(self):
        return (os.system, ("touch /tmp/autodl-nb201-pwned",))


def test_pickles_and_torch_files_carrying_code_are_refused(tmp_path):
    marker = Path("/tmp/autodl-nb201-pwned")
    marker.unlink(missing_ok=True)
    with bz2.open(tmp_path / "evil.pickle.pbz2", "wb") as handle:
        pickle.dump({"meta_archs": [], "payload": Exploit()}, handle)
    with pytest.raises(BenchmarkError, match="posix.system|os.system"):
        load_bz2_pickle(tmp_path / "evil.pickle.pbz2")
    torch.save({"meta_archs": [], "payload": Exploit()}, tmp_path / "evil.pth")
    with pytest.raises(BenchmarkError, match="refused because loading it could run code"):
        load_torch_file(tmp_path / "evil.pth")
    with pytest.raises(BenchmarkError, match="refused"):
        NASBench201API(str(tmp_path / "evil.pth"), verbose=False)
    assert not marker.exists()


def test_readers_accept_official_types_and_reject_bad_files(tmp_path):
    data = {"value": np.float64(1.5), "times": OrderedDict([(0, 2.0)]), "seeds": {777, 888}, ("cifar10", 777): None}
    torch.save(data, tmp_path / "plain.pth")
    assert load_torch_file(tmp_path / "plain.pth") == data
    torch.save(data, tmp_path / "legacy.pth", _use_new_zipfile_serialization=False)  # the pre-1.6 format of 2020
    assert load_torch_file(tmp_path / "legacy.pth") == data
    (tmp_path / "broken.pth").write_bytes(b"not a torch file")
    with pytest.raises(BenchmarkError, match="not a readable torch file"):
        load_torch_file(tmp_path / "broken.pth")
    with pytest.raises(BenchmarkError, match="does not exist"):
        load_torch_file(tmp_path / "missing.pth")
    torch.save({"meta_archs": []}, tmp_path / "partial.pth")
    with pytest.raises(BenchmarkError, match="lacks arch2infos, evaluated_indexes"):
        BenchmarkSource.open(tmp_path / "partial.pth")
    with pytest.raises(BenchmarkError, match="has no meta.pickle.pbz2"):
        BenchmarkSource.open(tmp_path)
    with pytest.raises(BenchmarkError, match="cannot open a benchmark from int"):
        NASBench201API(3, verbose=False)


@pytest.mark.parametrize("name", ["NATS-tss-v1_0-3ffb9-simple", "NATS-tss-v1_0-3ffb9.pickle.pbz2", "bench.store"])
def test_nats_files_and_store_answer_like_the_pth(folder, name):
    reference = NASBench201API(folder / "bench.pth", verbose=False)
    api = NASBench201API(folder / name, verbose=False)
    assert len(api) == 7 and api.evaluated_indexes == [0, 1, 2, 3, 4]
    for index in range(5):
        for dataset in ("cifar10-valid", "cifar10", "cifar100", "ImageNet16-120"):
            assert api.get_more_info(index, dataset, None, "200", False) == reference.get_more_info(index, dataset, None, "200", False)
            assert api.get_cost_info(index, dataset, "12") == reference.get_cost_info(index, dataset, "12")
    assert api.find_best("ImageNet16-120", "test", hp="200") == reference.find_best("ImageNet16-120", "test", hp="200")


def test_converter_streams_from_a_nats_folder_and_matches(folder, tmp_path):
    store = convert(folder / "NATS-tss-v1_0-3ffb9-simple", tmp_path / "nats.store", curve_dtype="float64")
    direct = Store.open(folder / "bench.store")
    nats = Store.open(store)
    assert nats.meta_archs == direct.meta_archs and nats.hps == ["12", "200"]
    table, other = nats.table("200", "cifar100"), direct.table("200", "cifar100")
    assert np.array_equal(table.final, other.final, equal_nan=True)
    assert np.array_equal(table.seeds, other.seeds) and table.curves.shape == (7, 3, EPOCHS[1], 13)
    assert np.allclose(table.curves, other.curves, rtol=1e-6, equal_nan=True)
    assert table.curves.dtype == np.float64 and other.curves.dtype == np.float32
    assert np.isnan(table.final[:, 5:]).all() and (table.seeds[5:] == -1).all()  # not evaluated
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nats.store"]  # no temporary folder left behind


def test_convert_cli(folder, tmp_path, capsys):
    from autodl.cli import run_main

    spec = importlib.util.spec_from_file_location("nb201_convert", ROOT / "exps" / "NAS-Bench-201" / "convert.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.main([str(folder / "bench.pth"), str(tmp_path / "out.store")]) == 0
    assert "wrote" in capsys.readouterr().out
    assert NASBench201API(tmp_path / "out.store", verbose=False).get_more_info(1, "cifar10", None, "200", False) == \
        NASBench201API(folder / "bench.store", verbose=False).get_more_info(1, "cifar10", None, "200", False)
    for argv, text in [([str(folder / "bench.pth"), str(tmp_path / "out.store")], "error: output"),
                       ([str(tmp_path / "none.pth"), str(tmp_path / "x.store")], "does not exist")]:
        with pytest.raises(SystemExit) as exit_info:
            run_main(script.main, argv)
        error = capsys.readouterr().err
        assert exit_info.value.code == 2 and text in error and len(error.strip().splitlines()) == 1


def test_store_open_errors(tmp_path, folder):
    with pytest.raises(BenchmarkError, match="is not a NAS-Bench-201 store"):
        Store.open(tmp_path)
    (tmp_path / "index.json").write_text('{"format": "other"}')
    with pytest.raises(BenchmarkError, match="convert the official file again"):
        Store.open(tmp_path)
    with pytest.raises(BenchmarkError, match="unknown curve dtype 'float16'"):
        convert(folder / "bench.pth", tmp_path / "x.store", curve_dtype="float16")


def test_modern_api_protocol_and_vectorised_queries(folder, raw):
    bench = NB201Benchmark.open(folder / "bench.store")
    full = raw["arch2infos"][3]["full"]
    last = EPOCHS[1] - 1

    def values(dataset, setname):
        return [full["all_results"][(dataset, s)]["eval_acc1es"][f"{setname}@{last}"] for s in full["dataset_seed"][dataset]]

    assert bench.final_accuracy(3, "cifar10") == np.mean(values("cifar10", "ori-test"))
    assert bench.final_accuracy(raw["meta_archs"][3], "cifar100") == np.mean(values("cifar100", "x-test"))
    assert bench.metric(3, "cifar10", "valid") == np.mean(values("cifar10-valid", "x-valid"))
    assert np.array_equal(bench.metric(3, "ImageNet16-120", "test", seed="all"), values("ImageNet16-120", "x-test"))
    assert bench.metric(3, "cifar100", "x-valid", seed=777) == values("cifar100", "x-valid")[0]
    with pytest.warns(ReportingWarning, match="hp='200'"):
        bench.final_accuracy(3, "cifar10", hp="12")
    with pytest.raises(BenchmarkError, match="needs rng"):
        bench.metric(3, "cifar10", "test", seed="random")
    drawn = bench.metric(3, "cifar10", "test", seed="random", rng=np.random.default_rng(0))
    assert drawn in values("cifar10", "ori-test")
    everything = bench.final_accuracies("cifar100")
    assert everything.shape == (7,) and np.isnan(everything[5:]).all()
    assert [everything[i] for i in range(5)] == [bench.final_accuracy(i, "cifar100") for i in range(5)]
    index, best = bench.find_best("cifar10", "valid")
    assert best == np.nanmax(bench.metric_all("cifar10", "valid")) and index == int(np.nanargmax(bench.metric_all("cifar10", "valid")))
    assert NASBench201API(folder / "bench.store", verbose=False).find_best("cifar10", "valid", hp="200") == (index, best)
    flops = bench.cost_all("cifar10", "flops")
    capped, _ = bench.find_best("cifar10", "test", max_flops=float(np.nanmedian(flops)))
    assert flops[capped] <= np.nanmedian(flops)
    curve = bench.curve(3, "cifar100", "train", "total-time", seed="all")
    train_times = [list(full["all_results"][("cifar100", s)]["train_times"].values()) for s in full["dataset_seed"]["cifar100"]]
    assert np.allclose(curve, np.cumsum(train_times, axis=1), rtol=1e-6)
    assert bench.metric(3, "cifar100", "train", "total-time", seed=777, epoch=4) == pytest.approx(sum(train_times[0][:5]), rel=1e-6)
    assert bench.cost(3, "cifar100")["flops"] == np.mean(
        [full["all_results"][("cifar100", s)]["flop"] for s in full["dataset_seed"]["cifar100"]])
    for call, text in [(lambda: bench.index("|x~0|"), "not in the benchmark"), (lambda: bench.index(7), "out of range"),
                       (lambda: bench.metric(3, "cifar10", "x-test"), "unknown split 'x-test'"),
                       (lambda: bench.metric(3, "cifar10", "test", "f1"), "unknown metric 'f1'"),
                       (lambda: bench.metric(3, "cifar10", "test", hp="90"), "unknown hp '90'"),
                       (lambda: bench.metric(3, "mnist", "test"), "unknown dataset 'mnist'"),
                       (lambda: bench.final_accuracy(3, "cifar10-valid"), "unknown reporting dataset"),
                       (lambda: bench.metric(6, "cifar10", "test"), "no run")]:
        with pytest.raises(BenchmarkError, match=text):
            call()
    in_memory = NB201Benchmark.open(folder / "bench.pth")
    assert np.array_equal(in_memory.final_accuracies("cifar10"), bench.final_accuracies("cifar10"), equal_nan=True)


def test_against_the_official_package(folder):
    """The official nas-bench-201 package (in the test extra) reads the .pth; ours reads the converted store."""
    from nas_201_api import NASBench201API as Official

    official = Official(str(folder / "bench.pth"), verbose=False)
    ours = NASBench201API(folder / "bench.store", verbose=False)
    for index in range(5):
        for hp in ("12", "200"):
            for dataset in ("cifar10-valid", "cifar10", "cifar100", "ImageNet16-120"):
                assert ours.get_more_info(index, dataset, None, hp, False) == official.get_more_info(index, dataset, None, hp, False)
                assert ours.get_cost_info(index, dataset, hp) == official.get_cost_info(index, dataset, hp)
                random.seed(index)
                mine = ours.get_more_info(index, dataset, None, hp, True)
                random.seed(index)
                assert mine == official.get_more_info(index, dataset, None, hp, True)
            assert ours.query_info_str_by_arch(index, hp) == official.query_info_str_by_arch(index, hp)
    for dataset in ("cifar10", "cifar100", "ImageNet16-120"):
        for setname in ("valid", "test"):
            assert ours.find_best(dataset, setname, 150, None, "200") == official.find_best(dataset, setname, 150, None, "200")
    # explicit epochs: exact from a float64 store; from the default float32 store within float32 rounding
    # (relative error below 1e-7, docs/NAS-Bench-201.md; sums and means of positive values keep that bound)
    exact = NASBench201API(convert(folder / "bench.pth", folder / "bench64.store", curve_dtype="float64"), verbose=False)
    for index in range(5):
        for hp, epochs in zip(("12", "200"), EPOCHS):
            for dataset in ("cifar10-valid", "cifar10", "cifar100", "ImageNet16-120"):
                for epoch in (0, epochs // 2, epochs - 1):
                    expected = official.get_more_info(index, dataset, epoch, hp, False)
                    assert exact.get_more_info(index, dataset, epoch, hp, False) == expected
                    rounded = ours.get_more_info(index, dataset, epoch, hp, False)
                    assert rounded.keys() == expected.keys()
                    for key, value in expected.items():
                        assert rounded[key] == (pytest.approx(value, rel=1e-7) if isinstance(value, float) else value), key


def test_store_queries_do_not_import_torch(folder):
    code = ("import sys; from autodl.benchmarks.nb201 import NASBench201API, NB201Benchmark; "
            f"api = NASBench201API({str(folder / 'bench.store')!r}, verbose=False); "
            "api.get_more_info(1, 'cifar10', hp='200'); NB201Benchmark(api._store).final_accuracies('cifar10'); "
            "print('torch' in sys.modules)")
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == "False"
