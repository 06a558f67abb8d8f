"""Issue 9 item 7: a converted store holds rows only for the architectures a file evaluated, so its size and
conversion scale with what was evaluated; every query still answers as from the official file."""
import time

import numpy as np
import pytest

from autodl.benchmarks.nb201 import NASBench201API, NB201Benchmark, Store, convert
from autodl.benchmarks.nb201.synthetic import make_benchmark, write_synthetic_store

EVALUATED, EPOCHS = 40, (12, 30)


def folder_bytes(path):
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    folder = tmp_path_factory.mktemp("size")
    sparse = make_benchmark(EVALUATED, total_archs=15625, epochs=EPOCHS)  # 40 of the 15,625 cells evaluated
    dense = make_benchmark(EVALUATED, epochs=EPOCHS)  # the same 40 records, alone in their file
    started = time.perf_counter()
    convert(sparse, folder / "sparse.store", curve_dtype="float64")  # exact per-epoch values
    sparse_seconds = time.perf_counter() - started
    started = time.perf_counter()
    convert(dense, folder / "dense.store", curve_dtype="float64")
    return folder, sparse_seconds, time.perf_counter() - started


def test_a_store_of_few_evaluated_cells_is_as_small_as_their_rows(stores):
    folder, sparse_seconds, dense_seconds = stores
    sparse, dense = folder / "sparse.store", folder / "dense.store"
    curves = np.load(sparse / "hp200" / "cifar100" / "curves.npy", mmap_mode="r")
    assert curves.shape[0] == EVALUATED  # rows, not 15,625
    # the only parts that grow with the size of the space: the architecture list in index.json and evaluated.npy
    assert folder_bytes(sparse) - folder_bytes(dense) < 15625 * (100 + 1)
    assert folder_bytes(sparse) < 3 * folder_bytes(dense)
    assert sparse_seconds < 5 * dense_seconds + 1.0


def test_queries_on_a_sparse_store_match_the_official_api(stores):
    folder = stores[0]
    official = NASBench201API(make_benchmark(EVALUATED, total_archs=15625, epochs=EPOCHS), verbose=False)
    api = NASBench201API(folder / "sparse.store", verbose=False)
    for index in (0, 17, EVALUATED - 1):
        for dataset in ("cifar10-valid", "cifar100"):
            for hp in ("12", "200"):
                assert api.get_more_info(index, dataset, None, hp, False) == official.get_more_info(index, dataset, None, hp, False)
                assert api.get_more_info(index, dataset, 5, hp, 777) == official.get_more_info(index, dataset, 5, hp, 777)
    bench = NB201Benchmark.open(folder / "sparse.store")
    assert np.isnan(bench.metric_all("cifar100", "valid")[EVALUATED:]).all()
    assert bench.curve(3, "cifar100", "valid").shape == (EPOCHS[1],)
    with pytest.raises(Exception, match="no 200-epoch run"):
        bench.curve(EVALUATED + 5, "cifar100", "valid")
    table = Store.open(folder / "sparse.store").table("200", "cifar100")
    assert np.isnan(table.curves[EVALUATED + 5]).all() and table.curves.shape[0] == 15625


def test_version_1_stores_with_rows_for_every_architecture_still_open(tmp_path):
    import json

    path = write_synthetic_store(tmp_path / "v2", num_archs=30, epochs=(12, 4))
    before = NB201Benchmark.open(path).metric_all("cifar10", "test")
    index = json.loads((path / "index.json").read_text())
    index["version"] = 1
    (path / "index.json").write_text(json.dumps(index))
    for archs in path.rglob("archs.npy"):
        archs.unlink()
    after = NB201Benchmark.open(path)
    np.testing.assert_array_equal(after.metric_all("cifar10", "test"), before)
    assert after.curve(2, "cifar10", "test").shape == (4,)


@pytest.mark.parametrize("name", ["sparse.store", "dense.store"])
def test_per_run_look_ups_equal_the_single_queries(stores, name):
    """metric_runs / run_epochs (what the benchmark evaluator reads, as lists) against metric(seed=...) and the
    official API's epoch counts, on a store with rows for every cell and on one with rows for 40 of them."""
    bench = NB201Benchmark.open(stores[0] / name)
    for dataset, split, hp in (("cifar10-valid", "x-valid", "12"), ("cifar100", "x-test", "200")):
        for metric in ("accuracy", "total-time"):
            runs = bench.metric_runs(dataset, split, metric, hp)
            assert len(runs) == len(bench)
            for index in range(len(bench)):
                expected = [bench.metric(index, dataset, split, metric, hp, seed) for seed in bench.seeds(index, dataset, hp)]
                assert runs[index] == expected, (dataset, split, metric, hp, index)
        epochs = bench.run_epochs(dataset, hp)
        trained = dict(zip(("12", "200"), EPOCHS))[hp]  # the generator's epochs of each hp's runs
        assert all(runs == [trained] * len(bench.seeds(index, dataset, hp)) for index, runs in enumerate(epochs))
    assert bench.arch_strs[5] == bench.arch_str(5) and bench.index(bench.arch_strs[7]) == 7
