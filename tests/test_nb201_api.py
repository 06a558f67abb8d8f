"""The drop-in NASBench201API answers with the official formulas (spec 4.5-4.7), from official files and from our store."""
from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from autodl.benchmarks.nb201 import ArchResults, BenchmarkError, NASBench201API, Store, convert
from autodl.benchmarks.nb201.synthetic import make_benchmark

DATASETS = ("cifar10-valid", "cifar10", "cifar100", "ImageNet16-120")
EPOCHS = (12, 20)  # (less, full): the real recipes are 12 and 200; 20 keeps the fixtures small


@pytest.fixture(scope="module")
def raw():
    """A v1_1-style benchmark: 6 evaluated architectures out of 9."""
    return make_benchmark(6, 9, style="v1_1", epochs=EPOCHS, seed=1)


@pytest.fixture(scope="module")
def files(raw, tmp_path_factory):
    folder = tmp_path_factory.mktemp("nb201")
    torch.save(raw, folder / "NAS-Bench-201-v1_1-096897.pth")
    convert(folder / "NAS-Bench-201-v1_1-096897.pth", folder / "exact.store", curve_dtype="float64")
    convert(folder / "NAS-Bench-201-v1_1-096897.pth", folder / "compact.store")
    return folder


@pytest.fixture(scope="module")
def apis(files):
    return {"file": NASBench201API(files / "NAS-Bench-201-v1_1-096897.pth", verbose=False),
            "store": NASBench201API(files / "exact.store", verbose=False)}


def run(raw, index, hp, dataset, seed):
    return raw["arch2infos"][index]["less" if hp == "12" else "full"]["all_results"][(dataset, seed)]


def seeds_of(raw, index, hp, dataset):
    return raw["arch2infos"][index]["less" if hp == "12" else "full"]["dataset_seed"][dataset]


@pytest.mark.parametrize("backend", ["file", "store"])
@pytest.mark.parametrize("dataset", DATASETS)
def test_get_more_info_mean_over_seeds_follows_the_official_formula(apis, raw, backend, dataset):
    api, index, hp = apis[backend], 4, "200"
    seeds = seeds_of(raw, index, hp, dataset)
    runs = [run(raw, index, hp, dataset, seed) for seed in seeds]
    last = EPOCHS[1] - 1
    info = api.get_more_info(index, dataset, hp=hp, is_random=False)
    assert info["train-accuracy"] == np.mean([r["train_acc1es"][last] for r in runs])
    assert info["train-loss"] == np.mean([r["train_losses"][last] for r in runs])
    total = np.mean([sum(r["train_times"][e] for e in range(last + 1)) for r in runs])
    assert info["train-all-time"] == total and info["train-per-time"] == total / EPOCHS[1]
    mapping = {"cifar10-valid": {"valid": "x-valid", "test": "ori-test"}, "cifar10": {"test": "ori-test"}}.get(
        dataset, {"valid": "x-valid", "test": "x-test", "valtest": "ori-test"})
    expected_keys = ["train-loss", "train-accuracy", "train-per-time", "train-all-time"]
    for prefix, setname in mapping.items():
        expected_keys += [f"{prefix}-loss", f"{prefix}-accuracy", f"{prefix}-per-time", f"{prefix}-all-time"]
        assert info[f"{prefix}-accuracy"] == np.mean([r["eval_acc1es"][f"{setname}@{last}"] for r in runs])
        all_time = np.mean([sum(r["eval_times"][f"{setname}@{e}"] for e in range(last + 1)) for r in runs])
        assert info[f"{prefix}-all-time"] == all_time and info[f"{prefix}-per-time"] == all_time / EPOCHS[1]
    assert list(info) == expected_keys


@pytest.mark.parametrize("backend", ["file", "store"])
def test_get_more_info_seed_epoch_and_random_modes(apis, raw, backend):
    api = apis[backend]
    seeds = seeds_of(raw, 2, "200", "cifar100")
    chosen = run(raw, 2, "200", "cifar100", seeds[-1])
    info = api.get_more_info(2, "cifar100", iepoch=5, hp="200", is_random=seeds[-1])
    assert info["valid-accuracy"] == chosen["eval_acc1es"]["x-valid@5"]
    assert info["train-all-time"] == sum(chosen["train_times"][e] for e in range(6))
    assert info["test-per-time"] == sum(chosen["eval_times"][f"x-test@{e}"] for e in range(6)) / 6
    random.seed(7)
    expected_seed = random.choice(seeds)
    random.seed(7)
    picked = api.get_more_info(2, "cifar100", hp="200", is_random=True)
    assert picked == api.get_more_info(2, "cifar100", hp="200", is_random=expected_seed)
    # the v1 keyword and a positional bool mean the same as hp strings
    assert api.get_more_info(2, "cifar10-valid", None, use_12epochs_result=True, is_random=111) == \
        api.get_more_info(2, "cifar10-valid", None, "12", 111) == api.get_more_info(2, "cifar10-valid", None, True, 111)


@pytest.mark.parametrize("backend", ["file", "store"])
def test_cost_latency_config_and_summary(apis, raw, backend):
    api = apis[backend]
    seeds = seeds_of(raw, 1, "200", "cifar10")
    runs = [run(raw, 1, "200", "cifar10", seed) for seed in seeds]
    cost = api.get_cost_info(1, "cifar10", hp="200")
    assert list(cost) == ["flops", "params", "latency", "T-train@epoch", "T-train@total", "T-ori-test@epoch", "T-ori-test@total"]
    assert cost["flops"] == np.mean([r["flop"] for r in runs]) and cost["params"] == np.mean([r["params"] for r in runs])
    latencies = [sum(r["latency"]) / len(r["latency"]) for r in runs if r["latency"]]
    assert api.get_latency(1, "cifar10", hp="200") == (np.mean(latencies) if latencies else None)
    assert cost["T-train@total"] == np.mean([np.sum(list(r["train_times"].values())) for r in runs])
    assert api.get_net_config(1, "cifar100") == {"name": "infer.tiny", "C": 16, "N": 5,
                                                 "arch_str": raw["meta_archs"][1], "num_classes": 100}
    text = api.query_info_str_by_arch(raw["meta_archs"][1], "200")
    lines = text.split("\n")
    assert lines[0] == raw["meta_archs"][1] and lines[1] == f"datasets : {list(DATASETS)}, extra-info : arch-index=1"
    assert lines[2].startswith(f"{'cifar10-valid':14s} FLOP=") and " ms." in lines[2]
    assert api.query_by_arch(raw["meta_archs"][1]) == text  # v1 default: the 200-epoch record
    assert api.query_info_str_by_arch(7, "200") is None  # in the space, not evaluated


def test_store_answers_exactly_like_the_official_file(apis, raw):
    file_api, store_api = apis["file"], apis["store"]
    for index in range(6):
        for hp in ("12", "200"):
            for dataset in DATASETS:
                for epoch in (None, 0, 7):
                    for mode in (False, 777):
                        assert file_api.get_more_info(index, dataset, epoch, hp, mode) == \
                            store_api.get_more_info(index, dataset, epoch, hp, mode)
                assert file_api.get_cost_info(index, dataset, hp) == store_api.get_cost_info(index, dataset, hp)
            assert file_api.query_info_str_by_arch(index, hp) == store_api.query_info_str_by_arch(index, hp)
            meta = store_api.query_meta_info_by_index(index, hp)
            assert isinstance(meta, ArchResults) and meta.get_dataset_names() == list(DATASETS)
            assert meta.get_metrics("cifar100", "x-test", 3) == file_api.query_meta_info_by_index(index, hp).get_metrics(
                "cifar100", "x-test", 3)
    for hp in ("12", "200"):
        for dataset in ("cifar10", "cifar100", "ImageNet16-120", "cifar10-valid"):
            for setname in ("valid", "train", "x-valid"):
                for caps in ((None, None), (100.0, None), (None, 0.8), (1.0, None)):
                    if (dataset, setname) == ("cifar10", "x-valid"):  # cifar10 evaluates ori-test only
                        for api in (file_api, store_api):
                            with pytest.raises(BenchmarkError, match=r"set 'x-valid' .*expected .*ori-test"):
                                api.find_best(dataset, setname, *caps, hp=hp)
                    else:
                        assert file_api.find_best(dataset, setname, *caps, hp=hp) == \
                            store_api.find_best(dataset, setname, *caps, hp=hp)
        assert file_api.statistics("cifar10", hp) == store_api.statistics("cifar10", hp)


def test_compact_store_is_within_float32_of_the_file(apis, files):
    compact = NASBench201API(files / "compact.store", verbose=False)
    exact = apis["file"]
    assert compact.get_more_info(3, "cifar100", None, "200", False) == exact.get_more_info(3, "cifar100", None, "200", False)
    mid, reference = compact.get_more_info(3, "cifar100", 4, "200", False), exact.get_more_info(3, "cifar100", 4, "200", False)
    assert list(mid) == list(reference)
    assert all(mid[key] == pytest.approx(reference[key], rel=1e-6) for key in reference)


@pytest.mark.parametrize("backend", ["file", "store"])
def test_find_best_statistics_and_simulation(apis, raw, backend):
    api = apis[backend]
    accuracies = {i: np.mean([run(raw, i, "200", "cifar10-valid", s)["eval_acc1es"][f"x-valid@{EPOCHS[1] - 1}"]
                              for s in seeds_of(raw, i, "200", "cifar10-valid")]) for i in range(6)}
    best = max(accuracies, key=lambda i: (accuracies[i], -i))
    assert api.find_best("cifar10", "valid", hp="200") == (best, accuracies[best])
    assert api.find_best("cifar10", "valid", FLOP_max=0.0, hp="200") == (-1, None)
    counts = {}
    for i in range(9):
        n = len(seeds_of(raw, i, "200", "cifar100")) if i < 6 else 0
        counts[n] = counts.get(n, 0) + 1
    assert api.statistics("cifar100", "200") == counts
    assert api.statistics("cifar10-valid", "12") == {2: 6, 0: 3}
    api.reset_time()
    random.seed(11)
    accuracy, latency, cost, total = api.simulate_train_eval(raw["meta_archs"][0], "cifar10", hp="12")
    random.seed(11)
    seed = random.choice([111, 777])
    record = run(raw, 0, "12", "cifar10-valid", seed)
    assert accuracy == record["eval_acc1es"]["x-valid@11"]
    assert cost == sum(record["train_times"].values()) + sum(record["eval_times"][f"x-valid@{e}"] for e in range(12)) / 12
    assert total == api.used_time == cost and latency == api.get_latency(0, "cifar10")
    api.reset_time()
    assert api.used_time == 0


@pytest.mark.parametrize("backend", ["file", "store"])
def test_basic_protocol_and_index_lookup(apis, raw, backend):
    api = apis[backend]

    class Tostr:
        def tostr(self):
            return raw["meta_archs"][5]

    class ArchLike:
        def __str__(self):
            return raw["meta_archs"][6]

    assert len(api) == 9 and api[3] == raw["meta_archs"][3] and list(api) == raw["meta_archs"]
    assert repr(api).startswith("NASBench201API(6/9 architectures, file=")
    assert api.query_index_by_arch(raw["meta_archs"][2]) == 2 and api.query_index_by_arch(4) == 4
    assert api.query_index_by_arch(Tostr()) == 5 and api.query_index_by_arch(ArchLike()) == 6
    assert api.query_index_by_arch("|none~0|+|none~0|none~1|+|none~0|none~1|zzz~2|") == -1
    assert api.arch(8) == raw["meta_archs"][8] and 0 <= api.random() < 9
    assert api.avaliable_hps == ["12", "200"]
    assert api.get_net_param(0, "cifar10", None, hp="200") == {s: None for s in seeds_of(raw, 0, "200", "cifar10")}
    assert set(api.query_by_index(0, "cifar10", hp="200")) == set(seeds_of(raw, 0, "200", "cifar10"))
    assert NASBench201API.str2lists(raw["meta_archs"][0])[2] == (("none", 0), ("none", 1), ("none", 2))
    assert NASBench201API.str2matrix(raw["meta_archs"][1])[3, 2] == 1  # skip_connect on edge 3<-2
    assert api.get_net_config(3, "ImageNet16-120")["num_classes"] == 120


def test_show_prints_both_recipes(apis, raw, capsys):
    apis["store"].show(2)
    text = capsys.readouterr().out
    assert " 012 epochs " in text and " 020 epochs " in text and raw["meta_archs"][2] in text
    apis["file"].show(2)
    assert capsys.readouterr().out == text
    apis["store"].show(8)
    assert "has not been evaluated" in capsys.readouterr().out


@pytest.mark.parametrize("backend", ["file", "store"])
def test_bad_queries_raise_clear_errors(apis, backend):
    api = apis[backend]
    cases = [
        (lambda: api.query_index_by_arch(9), "architecture index 9 is invalid"),
        (lambda: api.arch(-1), "expected an int in 0..8"),
        (lambda: api.get_more_info(0, "cifar11", hp="200"), "unknown dataset 'cifar11'"),
        (lambda: api.get_more_info(0, "cifar10", hp="90"), "unknown hp '90'"),
        (lambda: api.get_more_info(0, "cifar10", hp="200", is_random=123), "seed 123 was not run on cifar10"),
        (lambda: api.get_more_info(0, "cifar10", iepoch=20, hp="200"), "epoch 20 is out of range"),
        (lambda: api.get_more_info("|bad~0|", "cifar10"), "not in the benchmark"),
        (lambda: api.get_more_info(0, "cifar10", hp="12", use_12epochs_result=False), "contradicts"),
        (lambda: api.simulate_train_eval(0, "cifar10-valid"), "unknown dataset 'cifar10-valid'"),
        (lambda: api.query_meta_info_by_index(7, "200"), "has no 200-epoch results"),
        (lambda: api.find_best("cifar100", "y-test", hp="200"), "y-test"),
    ]
    for call, text in cases:
        with pytest.raises(BenchmarkError, match=text):
            call()
    with pytest.raises(ValueError):  # still a ValueError, as the official API raised
        api.arch(100)


def test_reload_archive_with_weights_and_clear_params(files, raw, tmp_path):
    from autodl.benchmarks.nb201.synthetic import make_record

    archive = tmp_path / "archive"
    archive.mkdir()
    record = make_record(7, raw["meta_archs"][7], epochs=EPOCHS, seed=3, weights=True)
    torch.save(record, archive / "000007-FULL.pth")
    api = NASBench201API(files / "exact.store", verbose=False)
    api.reload(archive, 7)
    assert 7 in api.evaluated_indexes and len(api.evaluated_indexes) == 7
    weights = api.get_net_param(7, "cifar10", 777, hp="200")
    assert torch.equal(weights["weight"], record["full"]["all_results"][("cifar10", 777)]["net_state_dict"]["weight"])
    seeds = record["full"]["dataset_seed"]["cifar100"]
    assert api.get_more_info(7, "cifar100", hp="200", is_random=False)["test-accuracy"] == np.mean(
        [record["full"]["all_results"][("cifar100", s)]["eval_acc1es"][f"x-test@{EPOCHS[1] - 1}"] for s in seeds])
    api.clear_params(7, "200")
    assert api.get_net_param(7, "cifar10", 777, hp="200") is None
    kept = api.get_net_param(7, "cifar10", 777, hp="12")  # the 12-epoch weights stay
    assert torch.equal(kept["weight"], record["less"]["all_results"][("cifar10", 777)]["net_state_dict"]["weight"])
    api.clear_params(7, None)
    assert api.get_net_param(7, "cifar10", 777, hp="12") is None
    with pytest.raises(BenchmarkError, match="000003-FULL.pth does not exist"):
        api.reload(archive, 3)


def test_default_location_error_names_the_files(tmp_path, monkeypatch, files, capsys):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(BenchmarkError) as error:
        NASBench201API(None, verbose=False)
    message = str(error.value)
    assert str(tmp_path / "NAS-Bench-201-v1_1-096897.store") in message
    assert str(tmp_path / "NAS-Bench-201-v1_1-096897.pth") in message and "convert.py" in message
    Store.open(files / "exact.store")  # sanity: the store opens by itself
    (tmp_path / "NAS-Bench-201-v1_1-096897.store").symlink_to(files / "exact.store")
    capsys.readouterr()
    assert len(NASBench201API(None, verbose=False)) == 9
    assert capsys.readouterr().out == ""  # verbose=False prints nothing, the default path included
    NASBench201API(None, verbose=True)
    assert "Try to use the default NAS-Bench-201 path" in capsys.readouterr().out


def test_v1_0_layout_without_times(tmp_path):
    """v1_0: 12-epoch runs only on cifar10-valid and no recorded times (AutoDL#55 crashed on them)."""
    raw = make_benchmark(3, 4, style="v1_0", epochs=EPOCHS, seed=5)
    torch.save(raw, tmp_path / "NAS-Bench-201-v1_0-e61699.pth")
    convert(tmp_path / "NAS-Bench-201-v1_0-e61699.pth", tmp_path / "v10.store")
    for api in (NASBench201API(tmp_path / "NAS-Bench-201-v1_0-e61699.pth", verbose=False),
                NASBench201API(tmp_path / "v10.store", verbose=False)):
        info = api.get_more_info(1, "cifar10-valid", hp="12", is_random=False)
        assert info["train-all-time"] is None and info["valid-per-time"] is None
        assert info["valid-accuracy"] == run(raw, 1, "12", "cifar10-valid", 777)["eval_acc1es"]["x-valid@11"]
        assert api.get_cost_info(1, "cifar100", "200")["T-train@total"] is None
        assert api.statistics("cifar100", "12") == {0: 4}
        with pytest.raises(BenchmarkError, match="unknown dataset 'cifar100'"):
            api.get_more_info(1, "cifar100", hp="12")
        with pytest.raises(BenchmarkError, match="records no training times"):
            api.simulate_train_eval(1, "cifar10", hp="12")
        assert api.get_net_config(1, "cifar10")["num_classes"] == 10
