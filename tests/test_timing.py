import pytest
import torch

from autodl.engine.timing import bench_device, interleaved_medians, timed
from autodl.errors import AutoDLError


def test_runs_are_interleaved_in_alternating_order_and_reduced_to_medians():
    calls = []
    seconds = {"a": iter([3.0, 1.0, 2.0]), "b": iter([5.0, 9.0, 4.0])}

    def run(name):
        def call():
            calls.append(name)
            return next(seconds[name])
        return call

    medians = interleaved_medians({"a": run("a"), "b": run("b")}, repeats=3)
    assert calls == ["a", "b", "b", "a", "a", "b"]
    assert medians == {"a": 2.0, "b": 5.0}


def test_timed_counts_the_call_and_bench_device_seeds_and_resolves():
    calls = []
    assert timed(lambda: calls.append(1), torch.device("cpu")) >= 0.0 and calls == [1]
    threads = torch.get_num_threads()
    assert bench_device(0, "cpu") == torch.device("cpu") and torch.get_num_threads() == threads
    first = torch.rand(3)
    bench_device(0, "cpu")
    assert torch.equal(torch.rand(3), first)
    with pytest.raises(AutoDLError, match="unknown device"):
        bench_device(0, "tpu")
