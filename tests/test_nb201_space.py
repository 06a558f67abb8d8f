"""The NB201 cell space: golden indices, enumeration order, isomorphism counts, encodings and errors."""
from __future__ import annotations

import random

import numpy as np
import pytest

from autodl.errors import AutoDLError
from autodl.spaces import nb201
from autodl.spaces.nb201 import (EDGES, OP_NAMES, REFERENCE_ARCHS, Arch, SpaceError, all_archs, arch_to_index,
                                 benchmark_archs, count_unique, index_to_arch, mutate, sample)

GOLDEN = {
    0: "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",
    1: "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
    2: "|avg_pool_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|avg_pool_3x3~0|avg_pool_3x3~1|avg_pool_3x3~2|",
    9: "|avg_pool_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|",
    100: "|nor_conv_3x3~0|+|nor_conv_3x3~0|none~1|+|nor_conv_3x3~0|avg_pool_3x3~1|skip_connect~2|",
    123: "|avg_pool_3x3~0|+|avg_pool_3x3~0|nor_conv_1x1~1|+|none~0|avg_pool_3x3~1|nor_conv_3x3~2|",
    15624: "|nor_conv_1x1~0|+|none~0|nor_conv_1x1~1|+|none~0|nor_conv_1x1~1|nor_conv_1x1~2|",
    11472: "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|",
    1462: "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|",
    4317: "|nor_conv_1x1~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|nor_conv_1x1~0|nor_conv_1x1~1|nor_conv_1x1~2|",
    1835: "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|",
    1651: "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
    9930: "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|",
    10636: "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|skip_connect~1|skip_connect~2|",
}


@pytest.mark.parametrize("index, text", sorted(GOLDEN.items()))
def test_golden_indices(index, text):
    assert str(index_to_arch(index)) == text
    assert arch_to_index(text) == index
    assert arch_to_index(Arch.from_str(text)) == index


def test_unshuffled_enumeration_starts_with_the_last_edge_varying_fastest():
    archs = all_archs()
    assert len(archs) == 15_625 and len(set(archs)) == 15_625
    assert [str(a) for a in archs[:3]] == [
        "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
        "|none~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|",
        "|none~0|+|none~0|none~1|+|none~0|none~1|nor_conv_1x1~2|",
    ]
    assert str(archs[5]) == "|none~0|+|none~0|none~1|+|none~0|skip_connect~1|none~2|"
    assert str(archs[-1]) == GOLDEN[1462].replace("nor_conv_3x3", "avg_pool_3x3")


def test_benchmark_order_is_the_seed_88_shuffle():
    order = list(all_archs())
    random.Random(88).shuffle(order)
    assert benchmark_archs() == tuple(order)
    assert nb201.ARCHS is benchmark_archs()


def test_global_random_state_is_untouched():
    random.seed(5)
    expected = random.random()
    random.seed(5)
    index_to_arch(7)
    arch_to_index(GOLDEN[2])
    assert random.random() == expected


@pytest.mark.parametrize("mode, count", [("zero", 6_466), ("skip", 12_751), ("exact", 15_625)])
def test_unique_counts(mode, count):
    assert count_unique(all_archs(), mode) == count


def test_canonical_str_examples():
    # zero mode: an op reading a node that is a bare zero is zero
    conv_on_zero = Arch.from_str("|none~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|avg_pool_3x3~2|")
    pool_on_zero = Arch.from_str("|none~0|+|none~0|avg_pool_3x3~1|+|skip_connect~0|none~1|avg_pool_3x3~2|")
    assert conv_on_zero.canonical_str("zero") == pool_on_zero.canonical_str("zero") == "#+(#+#)@avg_pool_3x3+0"
    assert conv_on_zero.canonical_str("skip") != pool_on_zero.canonical_str("skip")
    # skip mode: skip_connect is the identity, so reading node 1 = skip(node 0) equals reading node 0
    via_skip = Arch.from_str("|skip_connect~0|+|none~0|nor_conv_3x3~1|+|none~0|none~1|skip_connect~2|")
    direct = Arch.from_str("|skip_connect~0|+|nor_conv_3x3~0|none~1|+|none~0|none~1|skip_connect~2|")
    assert via_skip.canonical_str("skip") == direct.canonical_str("skip")
    assert via_skip.canonical_str("exact") != direct.canonical_str("exact")
    assert direct.canonical_str("exact") == (
        "(((0)@skip_connect)@none+(0)@nor_conv_3x3)@skip_connect+((0)@skip_connect)@none+(0)@none")
    with pytest.raises(SpaceError, match="unknown canonical mode"):
        direct.canonical_str("full")


def test_valid_count_and_examples():
    assert sum(arch.is_valid() for arch in all_archs()) == 15_284
    assert not index_to_arch(1651).is_valid()
    assert not Arch.from_str("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|").is_valid()
    assert Arch.from_str("|none~0|+|none~0|none~1|+|avg_pool_3x3~0|none~1|none~2|").is_valid()
    assert REFERENCE_ARCHS["resnet"].is_valid()


def test_every_encoding_round_trips_over_the_whole_space():
    for index, arch in enumerate(benchmark_archs()):
        assert Arch.from_str(str(arch)) == arch
        assert Arch.from_ops(arch.to_ops()) == arch
        assert Arch.from_ops(arch.op_indices) == arch
        assert Arch.from_matrix(arch.to_matrix()) == arch
        assert Arch.from_onehot(arch.to_onehot()) == arch
        assert arch_to_index(arch) == index
        assert index_to_arch(index) is arch


def test_encodings_of_one_arch():
    arch = Arch.from_str(GOLDEN[1])
    assert arch.to_ops() == ("nor_conv_3x3", "nor_conv_3x3", "avg_pool_3x3",
                             "skip_connect", "nor_conv_3x3", "skip_connect")
    assert arch.op_indices == (3, 3, 4, 1, 3, 1)
    assert arch.to_matrix().tolist() == [[0, 0, 0, 0], [3, 0, 0, 0], [3, 4, 0, 0], [1, 3, 1, 0]]
    onehot = arch.to_onehot()
    assert onehot.shape == (6, 5) and onehot.sum() == 6 and onehot[2, 4] == 1
    assert arch.nodes == ((("nor_conv_3x3", 0),),
                          (("nor_conv_3x3", 0), ("avg_pool_3x3", 1)),
                          (("skip_connect", 0), ("nor_conv_3x3", 1), ("skip_connect", 2)))
    assert len(arch) == 3
    assert repr(arch) == f"Arch({GOLDEN[1]!r})"
    weights = np.random.default_rng(0).normal(size=(6, 5)) * 1e-3
    weights[np.arange(6), arch.op_indices] += 1.0
    assert Arch.from_weights(weights) == arch


def test_arch_is_an_immutable_hashable_value():
    a, b = Arch.from_str(GOLDEN[0]), Arch.from_ops(list(Arch.from_str(GOLDEN[0]).to_ops()))
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    with pytest.raises(AttributeError):
        a.op_indices = (0,) * 6


def test_inputs_within_a_node_may_come_in_any_order():
    shuffled = "|nor_conv_3x3~0|+|avg_pool_3x3~1|nor_conv_3x3~0|+|skip_connect~2|skip_connect~0|nor_conv_3x3~1|"
    assert str(Arch.from_str(shuffled)) == GOLDEN[1]


def test_partial_strings_fill_missing_edges_with_none():
    assert str(REFERENCE_ARCHS["resnet"]) == GOLDEN[11472]
    assert arch_to_index(REFERENCE_ARCHS["all_c3x3"]) == 1462
    assert arch_to_index(REFERENCE_ARCHS["all_c1x1"]) == 4317
    assert arch_to_index(REFERENCE_ARCHS["all_idnt"]) == 1835


@pytest.mark.parametrize("text, message", [
    ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|", "has 2 nodes"),
    ("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|+|none~0|", "has 4 nodes"),
    ("|conv_9x9~0|+|none~0|none~1|+|none~0|none~1|none~2|", "unknown op 'conv_9x9'"),
    ("|none~1|+|none~0|none~1|+|none~0|none~1|none~2|", "may only read nodes 0..0"),
    ("|none~0|+|none~0|none~2|+|none~0|none~1|none~2|", "may only read nodes 0..1"),
    ("|none~0|+|none~0|none~0|+|none~0|none~1|none~2|", "reads node 0 twice"),
    ("|none~0|+|none~0|+|none~0|none~1|none~2|", "lacks the edges 2<-1"),
    ("|none~0|+|none~0|none~1|+|none~0|none~1|", "lacks the edges 3<-2"),
    ("none~0|+|none~0|none~1|+|none~0|none~1|none~2|", "starting and ending with '|'"),
    ("|none0|+|none~0|none~1|+|none~0|none~1|none~2|", "is malformed"),
    ("|none~x|+|none~0|none~1|+|none~0|none~1|none~2|", "is malformed"),
    ("|none~0||+|none~0|none~1|+|none~0|none~1|none~2|", "is malformed"),
    ("", "has 1 nodes"),
])
def test_bad_strings_raise_a_space_error(text, message):
    with pytest.raises(SpaceError, match=message):
        Arch.from_str(text)
    with pytest.raises(AutoDLError):
        arch_to_index(text)


def test_bad_encodings_raise_space_errors():
    with pytest.raises(SpaceError, match="6 edges but 5 ops"):
        Arch.from_ops([0] * 5)
    with pytest.raises(SpaceError, match="op index 5 is out of range"):
        Arch.from_ops([0, 0, 0, 0, 0, 5])
    with pytest.raises(SpaceError, match="unknown op 'sep_conv_3x3'"):
        Arch.from_ops(["sep_conv_3x3"] * 6)
    with pytest.raises(SpaceError, match="from_ops got the string"):
        Arch.from_ops(GOLDEN[0])
    with pytest.raises(SpaceError, match="shape"):
        Arch.from_matrix(np.zeros((3, 3)))
    bad = np.zeros((4, 4), dtype=int)
    bad[0, 1] = 2
    with pytest.raises(SpaceError, match="on or above the diagonal"):
        Arch.from_matrix(bad)
    with pytest.raises(SpaceError, match="not exactly one 1"):
        Arch.from_onehot(np.full((6, 5), 0.2))
    two_ones = Arch((0,) * 6).to_onehot()
    two_ones[0, 3] = 1
    with pytest.raises(SpaceError, match="not exactly one 1"):
        Arch.from_onehot(two_ones)
    with pytest.raises(SpaceError, match="shape"):
        Arch.from_weights(np.zeros((14, 8)))


@pytest.mark.parametrize("index", [-1, 15_625, 2.0, "3", True, None])
def test_bad_indices_raise_a_space_error(index):
    with pytest.raises(SpaceError, match="expected an integer in 0..15624"):
        index_to_arch(index)


def test_numpy_integer_index_is_accepted():
    assert str(index_to_arch(np.int64(1))) == GOLDEN[1]


@pytest.mark.parametrize("make_rng", [lambda: random.Random(0), lambda: np.random.default_rng(0)])
def test_mutate_changes_exactly_one_edge(make_rng):
    rng = make_rng()
    arch = index_to_arch(0)
    seen_edges, seen_ops = set(), set()
    for _ in range(400):
        child = mutate(arch, rng)
        diff = [k for k in range(len(EDGES)) if child.op_indices[k] != arch.op_indices[k]]
        assert len(diff) == 1
        seen_edges.add(diff[0])
        seen_ops.add((diff[0], child.op_indices[diff[0]]))
    assert seen_edges == set(range(6))
    assert len(seen_ops) == 6 * 4  # every different op on every edge is reachable


def test_mutate_and_sample_are_reproducible_with_explicit_generators():
    assert mutate(GOLDEN[0], random.Random(3)) == mutate(GOLDEN[0], random.Random(3))
    assert [sample(random.Random(1)) for _ in range(3)] == [sample(random.Random(1)) for _ in range(3)]
    first = [sample(np.random.default_rng(2)) for _ in range(2)]
    assert first == [sample(np.random.default_rng(2)) for _ in range(2)]
    with pytest.raises(SpaceError, match="random.Random or numpy.random.Generator"):
        sample(np.random.RandomState(0))


def test_sample_is_uniform_over_ops():
    rng = random.Random(0)
    counts = np.zeros((6, 5))
    for _ in range(5000):
        counts[np.arange(6), sample(rng).op_indices] += 1
    assert np.all(np.abs(counts / 5000 - 0.2) < 0.03)
    assert len(OP_NAMES) == 5
