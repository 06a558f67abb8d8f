"""The NASNet-space Genotype, the two derivation rules, the published genotypes and architecture artifacts."""
import dataclasses
import json
import os

import numpy as np
import pytest
import torch

from autodl.spaces import Arch
from autodl.spaces.artifact import ArtifactError, load_artifact, save_artifact
from autodl.spaces.nasnet import (
    DARTS_SEARCH_OPS, GENOTYPES, Genotype, SpaceError, derive_genotype, edge_keys, get_genotype, num_edges,
)

DARTS_V2 = get_genotype("DARTS_V2")
NB201_ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"


def cell(*nodes):
    return [list(node) for node in nodes]


# ------------------------------------------------------------------------------------- Genotype

def test_published_genotypes_match_the_table():
    assert set(GENOTYPES) == {"NASNet", "PNASNet", "DARTS_V1", "DARTS_V2", "DARTS", "SETN", "GDAS_V1"}
    assert get_genotype("DARTS") is DARTS_V2
    assert DARTS_V2.normal[3] == (("skip_connect", 0), ("dil_conv_3x3", 2))
    assert DARTS_V2.reduce[1] == (("skip_connect", 2), ("max_pool_3x3", 1))
    nasnet = get_genotype("NASNet")
    assert len(nasnet.normal) == 5 and nasnet.normal_concat == (2, 3, 4, 5, 6)
    assert nasnet.reduce_concat == (4, 5, 6)
    assert nasnet.reduce[0] == (("sep_conv_5x5", 1), ("sep_conv_7x7", 0))
    pnas = get_genotype("PNASNet")
    assert pnas.normal == pnas.reduce and pnas.normal[0] == (("sep_conv_5x5", 0), ("max_pool_3x3", 0))
    assert get_genotype("SETN").normal[3] == (("max_pool_3x3", 1), ("conv_3x1_1x3", 4))
    assert get_genotype("GDAS_V1").reduce[2] == (("dil_conv_5x5", 2), ("sep_conv_3x3", 1))
    assert get_genotype("DARTS_V1").reduce[3] == (("skip_connect", 2), ("avg_pool_3x3", 0))


def test_unknown_genotype_name_lists_the_names():
    with pytest.raises(SpaceError, match="ENAS.*DARTS_V2"):
        get_genotype("ENAS")


@pytest.mark.parametrize("name", sorted(GENOTYPES))
def test_json_round_trip(name):
    genotype = get_genotype(name)
    assert Genotype.from_json(genotype.to_json()) == genotype
    assert Genotype.from_dict(json.loads(json.dumps(genotype.to_dict()))) == genotype
    assert hash(Genotype.from_dict(genotype.to_dict())) == hash(genotype)


def test_lists_and_tuples_give_equal_hashable_values():
    as_lists = Genotype(cell([["sep_conv_3x3", 0], ["skip_connect", 1]]), [2],
                        cell([["max_pool_3x3", 0], ["max_pool_3x3", 1]]), [2])
    as_tuples = Genotype(((("sep_conv_3x3", 0), ("skip_connect", 1)),), (2,),
                         ((("max_pool_3x3", 0), ("max_pool_3x3", 1)),), (2,))
    assert as_lists == as_tuples and len({as_lists, as_tuples}) == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        as_lists.normal = ()


def test_search_checkpoint_triples_and_aliases_are_accepted():
    data = {"normal": [[["dua_sepc_3x3", 0, 0.31], ["dil_sepc_5x5", 1, 0.2]]], "normal_concat": [2],
            "reduce": [[["max_pool_3x3", 0, 0.5], ["skip_connect", 1, 0.4]]], "reduce_concat": [2]}
    genotype = Genotype.from_dict(data)
    assert genotype.normal == ((("sep_conv_3x3", 0), ("dil_conv_5x5", 1)),)


@pytest.mark.parametrize("normal, concat, message", [
    (cell([["conv_9x9", 0], ["skip_connect", 1]]), [2], "unknown op 'conv_9x9'"),
    (cell([["none", 0], ["skip_connect", 1]]), [2], "unknown op 'none'"),
    (cell([["sep_conv_3x3", 2], ["skip_connect", 1]]), [2], "out of range; expected 0..1"),
    (cell([["sep_conv_3x3", -1]]), [2], "out of range"),
    (cell([["sep_conv_3x3", 0]], [["sep_conv_3x3", 3]]), [2, 3], r"node 1 \(state 3\).*expected 0..2"),
    (cell([["sep_conv_3x3", "0"]]), [2], "not an integer"),
    (cell([["sep_conv_3x3", True]]), [2], "not an integer"),
    (cell([]), [2], "has no \\[op, input\\] pair"),
    ([], [], "has no node"),
    (cell([["sep_conv_3x3", 0]]), [3], "normal_concat"),
    (cell([["sep_conv_3x3", 0]]), [], "normal_concat"),
    (cell([["sep_conv_3x3", 0]], [["sep_conv_3x3", 2]]), [2, 2], "repeats a state"),
    (cell([["sep_conv_3x3"]]), [2], r"expected an \[op, input\] pair"),
    ("sep_conv_3x3", [2], "expected a list of nodes"),
])
def test_invalid_genotypes_raise_one_clear_error(normal, concat, message):
    with pytest.raises(SpaceError, match=message):
        Genotype(normal, concat, DARTS_V2.reduce, DARTS_V2.reduce_concat)


def test_bad_dicts_and_json_raise_space_errors():
    data = DARTS_V2.to_dict()
    del data["reduce_concat"]
    with pytest.raises(SpaceError, match="lacks key 'reduce_concat'"):
        Genotype.from_dict(data)
    with pytest.raises(SpaceError, match="JSON object"):
        Genotype.from_dict([1, 2])
    with pytest.raises(SpaceError, match="invalid at line 1"):
        Genotype.from_json("{normal:")


# ----------------------------------------------------------------------------------- derivation

def test_edge_order_is_node_major():
    keys = edge_keys(4)
    assert len(keys) == num_edges(4) == 14
    assert keys[:5] == ["0<-0", "0<-1", "1<-0", "1<-1", "1<-2"] and keys[-1] == "3<-4"
    assert keys == sorted(keys)


def hand_made_weights():
    """Per-edge weights where the two rules disagree on nodes 0 and 3."""
    ops = list(DARTS_SEARCH_OPS)
    weights = np.full((14, len(ops)), 0.01)
    row = {key: index for index, key in enumerate(edge_keys(4))}

    def put(edge, op, value):
        weights[row[edge], ops.index(op)] = value

    put("0<-0", "sep_conv_3x3", 0.50); put("0<-0", "sep_conv_5x5", 0.40); put("0<-1", "max_pool_3x3", 0.30)
    put("1<-2", "dil_conv_5x5", 0.60); put("1<-0", "skip_connect", 0.55); put("1<-1", "none", 0.99)
    put("2<-3", "avg_pool_3x3", 0.45); put("2<-1", "sep_conv_5x5", 0.44); put("2<-0", "skip_connect", 0.10)
    put("3<-4", "dil_conv_3x3", 0.70); put("3<-4", "sep_conv_3x3", 0.65); put("3<-2", "max_pool_3x3", 0.20)
    put("3<-0", "none", 0.95)
    return weights


def test_darts_rule_uses_two_distinct_inputs_strongest_first():
    weights = hand_made_weights()
    genotype = derive_genotype(weights, weights, rule="darts")
    assert genotype.normal == (
        (("sep_conv_3x3", 0), ("max_pool_3x3", 1)),
        (("dil_conv_5x5", 2), ("skip_connect", 0)),
        (("avg_pool_3x3", 3), ("sep_conv_5x5", 1)),
        (("dil_conv_3x3", 4), ("max_pool_3x3", 2)),
    )
    assert genotype.reduce == genotype.normal
    assert genotype.normal_concat == genotype.reduce_concat == (2, 3, 4, 5)


def test_original_rule_may_use_one_input_twice():
    weights = hand_made_weights()
    genotype = derive_genotype(weights, weights, rule="original")
    assert genotype.normal == (
        (("sep_conv_3x3", 0), ("sep_conv_5x5", 0)),
        (("dil_conv_5x5", 2), ("skip_connect", 0)),
        (("avg_pool_3x3", 3), ("sep_conv_5x5", 1)),
        (("dil_conv_3x3", 4), ("sep_conv_3x3", 4)),
    )


def test_derivation_accepts_tensors_other_op_orders_and_search_names():
    weights = hand_made_weights()
    expected = derive_genotype(weights, weights)
    assert derive_genotype(torch.tensor(weights, requires_grad=True), torch.tensor(weights)) == expected
    permutation = [0, 7, 6, 1, 2, 3, 4, 5]  # the original DARTS op order
    reordered = [DARTS_SEARCH_OPS[k] for k in permutation]
    assert derive_genotype(weights[:, permutation], weights[:, permutation], reordered) == expected
    search_names = ["none", "skip_connect", "dua_sepc_3x3", "dua_sepc_5x5", "dil_sepc_3x3", "dil_sepc_5x5",
                    "avg_pool_3x3", "max_pool_3x3"]
    assert derive_genotype(weights, weights, search_names) == expected


def test_derivation_with_a_reduce_op_list_of_its_own():
    """NASP(12ops): the reduction cell's columns follow its own list, and no list holds `none`."""
    normal_ops = ("skip_connect", "sep_conv_3x3")
    reduce_ops = ("skip_connect", "avg_pool_3x3", "max_pool_7x7")
    normal, reduce = np.zeros((14, 2)), np.zeros((14, 3))
    normal[:, 0], reduce[:, 2] = 1.0, 1.0
    genotype = derive_genotype(normal, reduce, normal_ops, reduce_op_names=reduce_ops)
    assert {op for node in genotype.normal for op, _ in node} == {"skip_connect"}
    assert {op for node in genotype.reduce for op, _ in node} == {"max_pool_7x7"}


def test_derivation_with_other_step_counts():
    weights = np.zeros((num_edges(2), 2))
    weights[:, 1] = np.arange(5)
    genotype = derive_genotype(weights, weights, ["none", "skip_connect"], steps=2)
    assert genotype.normal == ((("skip_connect", 1), ("skip_connect", 0)), (("skip_connect", 2), ("skip_connect", 1)))
    assert genotype.normal_concat == (2, 3)


@pytest.mark.parametrize("kwargs, message", [
    ({"rule": "greedy"}, "unknown derivation rule"),
    ({"steps": 3}, r"shape \(14, 8\); expected \(9, 8\)"),
    ({"steps": 0}, "steps=0"),
    ({"op_names": ["none"] * 8}, "no op besides 'none'"),
    ({"op_names": ["none", "conv_9x9"] + list(DARTS_SEARCH_OPS[2:])}, "unknown op 'conv_9x9'"),
    ({"reduce_op_names": ["none"] * 8}, "reduce_op_names holds no op besides 'none'"),
    ({"reduce_op_names": DARTS_SEARCH_OPS[:5]}, r"reduce weights have shape \(14, 8\); expected \(14, 5\)"),
])
def test_derivation_errors(kwargs, message):
    weights = hand_made_weights()
    with pytest.raises(SpaceError, match=message):
        derive_genotype(weights, weights, **kwargs)


def test_derivation_rejects_non_finite_weights():
    weights = hand_made_weights()
    weights[3, 2] = np.nan
    with pytest.raises(SpaceError, match="NaN or infinity"):
        derive_genotype(hand_made_weights(), weights)


# ------------------------------------------------------------------------------------- artifacts

def test_nasnet_artifact_round_trip(tmp_path):
    path = tmp_path / "run" / "arch.json"
    benchmark = {"hp": "600-epochs", "split": "test", "accuracy": 97.18}
    saved = save_artifact(path, DARTS_V2, algorithm="DARTS-V2", dataset="cifar10", seed=7, search_cost_s=3600.5,
                          benchmark=benchmark, config={"LR": 0.025})
    loaded = load_artifact(path)
    assert loaded == saved
    assert loaded.space == "nasnet" and loaded.arch == DARTS_V2 and loaded.seed == 7
    assert loaded.benchmark == benchmark and loaded.extra == {"config": {"LR": 0.025}}
    data = json.loads(path.read_text())
    assert data["format"] == "autodl-architecture" and data["version"] == 1 and data["arch"] == DARTS_V2.to_dict()
    assert os.listdir(path.parent) == ["arch.json"]  # no temporary file left behind


def test_nb201_artifact_round_trip(tmp_path):
    path = tmp_path / "nb201.json"
    save_artifact(path, NB201_ARCH, algorithm="REA", dataset="cifar10-valid", seed=None,
                  benchmark={"hp": "200", "split": "ori-test", "accuracy": 93.76})
    loaded = load_artifact(path)
    assert loaded.space == "nas-bench-201" and loaded.arch == NB201_ARCH and loaded.search_cost_s is None
    shuffled = "|nor_conv_3x3~0|+|avg_pool_3x3~1|nor_conv_3x3~0|+|skip_connect~2|skip_connect~0|nor_conv_3x3~1|"
    assert save_artifact(path, shuffled, algorithm="REA", dataset="cifar10").arch == NB201_ARCH  # canonical form
    assert save_artifact(path, Arch.from_str(NB201_ARCH), algorithm="REA", dataset="cifar10").arch == NB201_ARCH


@pytest.mark.parametrize("kwargs, message", [
    ({"arch": "|nor_conv_3x3|+"}, "has 2 nodes separated by"),
    ({"arch": 11472}, "'arch' is a int; expected its string"),
    ({"benchmark": {"accuracy": 93.1}}, "lacks the string 'hp'"),
    ({"benchmark": {"hp": "200", "accuracy": 93.1}}, "lacks the string 'split'"),
    ({"benchmark": [93.1]}, "expected an object"),
    ({"seed": 1.5}, "'seed' is 1.5"),
    ({"search_cost_s": -1}, "non-negative number"),
    ({"algorithm": None}, "must be strings"),
    ({"space": "nasbench101"}, "unknown space 'nasbench101'"),
    ({"arch": {"normal": []}, "space": "nasnet"}, "lacks key"),
    ({"extra_value": object()}, "cannot be written as JSON"),
])
def test_save_artifact_rejects_bad_input(tmp_path, kwargs, message):
    arguments = {"arch": NB201_ARCH, "algorithm": "REA", "dataset": "cifar10", **kwargs}
    with pytest.raises(ArtifactError, match=message):
        save_artifact(tmp_path / "a.json", **arguments)
    assert not (tmp_path / "a.json").exists()


@pytest.mark.parametrize("content, message", [
    (None, "cannot read architecture artifact"),
    ("{oops", "invalid JSON at line 1"),
    ("[1, 2]", "not an architecture artifact"),
    ('{"format": "autodl-architecture", "version": 9}', "version 9 is not supported"),
    ('{"format": "autodl-architecture", "version": 1, "space": "nasnet", "algorithm": "a", "dataset": "d"}',
     "missing 'arch'"),
    ('{"format": "autodl-architecture", "version": 1, "space": "nasnet", "algorithm": "a", "dataset": "d",'
     ' "arch": {"normal": [[["conv_9x9", 0]]], "normal_concat": [2], "reduce": [[["skip_connect", 0]]],'
     ' "reduce_concat": [2]}}', "unknown op 'conv_9x9'"),
])
def test_load_artifact_errors(tmp_path, content, message):
    path = tmp_path / "bad.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ArtifactError, match=message):
        load_artifact(path)
