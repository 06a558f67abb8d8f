"""``ArchResults`` / ``ResultsCount``: the official per-architecture and per-trial record objects.

They hold the state dicts of the official files (spec 4.5) and answer with the official formulas
(spec 4.6): metrics averaged over seeds with ``np.mean``, times accumulated epoch by epoch,
latency as the mean of the recorded batch times.  ``NASBench201API`` returns copies of them.
"""
from __future__ import annotations

import copy
import random
from collections import defaultdict
from typing import Any, Callable

import numpy as np

from ...errors import require_one_of
from .common import BenchmarkError, set_layout

_RESULT_DEFAULTS: dict[str, Any] = {
    "name": None, "net_state_dict": None, "train_acc1es": None, "train_acc5es": None, "train_losses": None,
    "train_times": None, "arch_config": None, "params": None, "flop": None, "seed": None, "epochs": None,
    "latency": None, "eval_names": [], "eval_acc1es": {}, "eval_times": {}, "eval_losses": {},
}


class ResultsCount:
    """One training run (architecture, dataset, seed): per-epoch train/eval curves, costs and weights."""

    def __init__(self, name: str, state_dict: Any, train_accs: Any, train_losses: Any, params: float, flop: float,
                 arch_config: dict, seed: int, epochs: int, latency: Any) -> None:
        self.__dict__.update(copy.deepcopy(_RESULT_DEFAULTS))
        self.name, self.net_state_dict = name, state_dict
        self.train_acc1es, self.train_losses = copy.deepcopy(train_accs), copy.deepcopy(train_losses)
        self.arch_config = copy.deepcopy(arch_config)
        self.params, self.flop, self.seed, self.epochs, self.latency = params, flop, seed, epochs, latency

    @classmethod
    def create_from_state_dict(cls, state_dict: dict) -> "ResultsCount":
        result = cls.__new__(cls)
        result.__dict__.update(copy.deepcopy(_RESULT_DEFAULTS))
        result.load_state_dict(state_dict)
        return result

    def state_dict(self) -> dict:
        return dict(self.__dict__)

    def load_state_dict(self, state_dict: dict) -> None:
        self.__dict__.update(state_dict)

    def update_train_info(self, train_acc1es: dict, train_acc5es: dict, train_losses: dict, train_times: dict) -> None:
        self.train_acc1es, self.train_acc5es = train_acc1es, train_acc5es
        self.train_losses, self.train_times = train_losses, train_times

    def reset_pseudo_train_times(self, estimated_per_epoch_time: float) -> None:
        self.train_times = {epoch: estimated_per_epoch_time for epoch in range(self.epochs)}

    def reset_pseudo_eval_times(self, eval_name: str, estimated_per_epoch_time: float) -> None:
        require_one_of("evaluation set", eval_name, self.eval_names, BenchmarkError)
        for epoch in range(self.epochs):
            self.eval_times[f"{eval_name}@{epoch}"] = estimated_per_epoch_time

    def reset_eval(self) -> None:
        self.eval_names, self.eval_acc1es, self.eval_times, self.eval_losses = [], {}, {}, {}

    def update_latency(self, latency: Any) -> None:
        self.latency = copy.deepcopy(latency)

    def get_latency(self) -> float:
        """Mean recorded latency in seconds per batch of 256, or -1.0 when none was recorded."""
        return -1.0 if self.latency is None else sum(self.latency) / len(self.latency)

    def update_eval(self, accs: dict, losses: dict, times: dict) -> None:
        for name in dict.fromkeys(key.split("@")[0] for key in accs):
            if name in self.eval_names:
                raise BenchmarkError(f"evaluation set {name!r} was already added; add each set once")
            self.eval_names.append(name)
            for epoch in range(self.epochs):
                key = f"{name}@{epoch}"
                self.eval_acc1es[key], self.eval_losses[key], self.eval_times[key] = accs[key], losses[key], times[key]

    def update_OLD_eval(self, name: str, accs: dict, losses: dict) -> None:  # noqa: N802 (official name)
        if name in self.eval_names:
            raise BenchmarkError(f"evaluation set {name!r} was already added; add each set once")
        self.eval_names.append(name)
        for epoch in range(self.epochs):
            if epoch in accs:
                self.eval_acc1es[f"{name}@{epoch}"], self.eval_losses[f"{name}@{epoch}"] = accs[epoch], losses[epoch]

    def get_total_epoch(self) -> int:
        return int(self.epochs)

    def get_times(self) -> dict[str, Any]:
        """``T-train@epoch`` / ``T-train@total`` and ``T-<set>@epoch`` / ``T-<set>@total`` (None where not recorded)."""
        if isinstance(self.train_times, dict) and self.train_times:
            times = list(self.train_times.values())
            info: dict[str, Any] = {"T-train@epoch": np.mean(times), "T-train@total": np.sum(times)}
        else:
            info = {"T-train@epoch": None, "T-train@total": None}
        for name in self.eval_names:
            keys = [f"{name}@{epoch}" for epoch in range(self.epochs)]
            if isinstance(self.eval_times, dict) and all(self.eval_times.get(key) is not None for key in keys):
                times = [self.eval_times[key] for key in keys]
                info[f"T-{name}@epoch"], info[f"T-{name}@total"] = np.mean(times), np.sum(times)
            else:
                info[f"T-{name}@epoch"], info[f"T-{name}@total"] = None, None
        return info

    def get_eval_set(self) -> list[str]:
        return self.eval_names

    def _check_epoch(self, iepoch: int | None) -> int:
        iepoch = self.epochs - 1 if iepoch is None else iepoch
        if not 0 <= iepoch < self.epochs:
            raise BenchmarkError(f"epoch {iepoch} is out of range; expected 0..{self.epochs - 1} (0-based) or None for the last")
        return iepoch

    def get_train(self, iepoch: int | None = None) -> dict[str, Any]:
        """Train loss/accuracy after epoch ``iepoch`` (0-based, None = last) with that epoch's and the accumulated time."""
        iepoch = self._check_epoch(iepoch)
        if self.train_times is not None:
            cur_time, all_time = self.train_times[iepoch], sum(self.train_times[i] for i in range(iepoch + 1))
        else:
            cur_time = all_time = None
        return {"iepoch": iepoch, "loss": self.train_losses[iepoch], "accuracy": self.train_acc1es[iepoch],
                "cur_time": cur_time, "all_time": all_time}

    def get_eval(self, name: str, iepoch: int | None = None) -> dict[str, Any]:
        """Loss/accuracy on evaluation set ``name`` (``valid`` means ``x-valid``) after epoch ``iepoch``."""
        iepoch = self._check_epoch(iepoch)
        name = "x-valid" if name == "valid" else name
        key = f"{name}@{iepoch}"
        if key not in self.eval_acc1es:
            raise BenchmarkError(f"set {name!r} was not evaluated in this run; expected one of {', '.join(self.eval_names)}")
        if isinstance(self.eval_times, dict) and self.eval_times:
            cur_time = self.eval_times[key]
            all_time = sum(self.eval_times[f"{name}@{i}"] for i in range(iepoch + 1))
        else:
            cur_time = all_time = None
        return {"iepoch": iepoch, "loss": self.eval_losses[key], "accuracy": self.eval_acc1es[key],
                "cur_time": cur_time, "all_time": all_time}

    def get_net_param(self, clone: bool = False) -> Any:
        return copy.deepcopy(self.net_state_dict) if clone else self.net_state_dict

    def get_config(self, str2structure: Callable[[str], Any] | None) -> dict[str, Any]:
        """The ``infer.tiny`` model config of this run (with ``genotype`` parsed when ``str2structure`` is given)."""
        config = self.arch_config
        if str2structure is None:
            return {"name": "infer.tiny", "C": config["channel"], "N": config["num_cells"],
                    "arch_str": config["arch_str"], "num_classes": config["class_num"]}
        return {"name": "infer.tiny", "C": config["channel"], "N": config["num_cells"],
                "genotype": str2structure(config["arch_str"]), "num_classes": config["class_num"]}

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.name}, arch={self.arch_config['arch_str']}, FLOP={self.flop:.2f}M, "
                f"Param={self.params:.3f}MB, seed={self.seed}, {len(self.eval_names)} eval-sets: "
                f"[{', '.join(self.eval_names)}])")


class ArchResults:
    """All runs of one architecture under one training recipe: ``all_results[(dataset, seed)]``."""

    def __init__(self, arch_index: int, arch_str: str) -> None:
        self.arch_index, self.arch_str = int(arch_index), copy.deepcopy(arch_str)
        self.all_results: dict[tuple[str, int], ResultsCount] = {}
        self.dataset_seed: dict[str, list[int]] = {}
        self.clear_net_done = False

    def _seeds(self, dataset: str) -> list[int]:
        require_one_of("dataset", dataset, self.dataset_seed, BenchmarkError)
        return self.dataset_seed[dataset]

    def get_compute_costs(self, dataset: str) -> dict[str, Any]:
        """FLOPs, params, latency and train/eval times of ``dataset``, averaged over its seeds."""
        results = [self.all_results[(dataset, seed)] for seed in self._seeds(dataset)]
        latencies = [latency for latency in (result.get_latency() for result in results) if latency > 0]
        info: dict[str, Any] = {"flops": np.mean([r.flop for r in results]), "params": np.mean([r.params for r in results]),
                                "latency": np.mean(latencies) if latencies else None}
        times: dict[str, list] = defaultdict(list)
        for result in results:
            for key, value in result.get_times().items():
                times[key].append(value)
        for key, values in times.items():
            info[key] = np.mean(values) if values and None not in values else None
        return info

    def get_metrics(self, dataset: str, setname: str, iepoch: int | None = None, is_random: bool | int = False) -> dict:
        """Loss, accuracy, epoch and times on ``setname`` (train/x-valid/x-test/ori-test/valid).

        ``is_random``: True = one random run, False = mean over runs, an int = the run with that seed.
        """
        seeds = self._seeds(dataset)
        results = [self.all_results[(dataset, seed)] for seed in seeds]
        infos: dict[str, list] = defaultdict(list)
        for result in results:
            info = result.get_train(iepoch) if setname == "train" else result.get_eval(setname, iepoch)
            for key, value in info.items():
                infos[key].append(value)
        if isinstance(is_random, bool) and is_random:
            pick = random.randint(0, len(results) - 1)
            return {key: values[pick] for key, values in infos.items()}
        if isinstance(is_random, bool):
            return {key: np.mean(values) if values and values[0] is not None else None for key, values in infos.items()}
        if isinstance(is_random, (int, np.integer)):
            if is_random not in seeds:
                raise BenchmarkError(f"seed {is_random} was not run on {dataset}; expected one of {seeds}")
            pick = seeds.index(is_random)
            return {key: values[pick] for key, values in infos.items()}
        raise BenchmarkError(f"is_random={is_random!r} is invalid; expected True, False or a seed (int)")

    def show(self, is_print: bool = False) -> list[str]:
        return print_information(self, None, is_print)

    def get_dataset_names(self) -> list[str]:
        return list(self.dataset_seed.keys())

    def get_dataset_seeds(self, dataset: str) -> list[int]:
        return copy.deepcopy(self._seeds(dataset))

    def get_net_param(self, dataset: str, seed: int | None = None) -> Any:
        """Trained weights of the run with ``seed`` (None: dict seed -> weights of every run)."""
        if seed is None:
            return {s: self.all_results[(dataset, s)].get_net_param() for s in self._seeds(dataset)}
        if (dataset, seed) not in self.all_results:
            raise BenchmarkError(f"no run of {dataset} with seed {seed}; expected one of {self.dataset_seed.get(dataset, [])}")
        return self.all_results[(dataset, seed)].get_net_param()

    def reset_latency(self, dataset: str, seed: int | None, latency: float) -> None:
        for s in self._seeds(dataset) if seed is None else [seed]:
            self.all_results[(dataset, s)].update_latency([latency])

    def reset_pseudo_train_times(self, dataset: str, seed: int | None, estimated_per_epoch_time: float) -> None:
        for s in self._seeds(dataset) if seed is None else [seed]:
            self.all_results[(dataset, s)].reset_pseudo_train_times(estimated_per_epoch_time)

    def reset_pseudo_eval_times(self, dataset: str, seed: int | None, eval_name: str, estimated_per_epoch_time: float) -> None:
        for s in self._seeds(dataset) if seed is None else [seed]:
            self.all_results[(dataset, s)].reset_pseudo_eval_times(eval_name, estimated_per_epoch_time)

    def get_latency(self, dataset: str) -> float:
        """Mean latency over the runs of ``dataset``; raises when a run has none."""
        latencies = []
        for seed in self._seeds(dataset):
            latency = self.all_results[(dataset, seed)].get_latency()
            if not isinstance(latency, float) or latency <= 0:
                raise BenchmarkError(f"the run of {dataset} with seed {seed} has no latency ({latency}); use another dataset")
            latencies.append(latency)
        return sum(latencies) / len(latencies)

    def get_total_epoch(self, dataset: str | None = None) -> int:
        """The number of training epochs (every selected run must agree)."""
        datasets = list(self.dataset_seed) if dataset is None else [dataset]
        epochs = [self.all_results[(name, seed)].get_total_epoch() for name in datasets for seed in self._seeds(name)]
        if len(set(epochs)) > 1:
            raise BenchmarkError(f"runs disagree on the number of epochs ({epochs}); pass one dataset")
        return epochs[-1]

    def query(self, dataset: str, seed: int | None = None) -> Any:
        """The ``ResultsCount`` of one run, or a dict seed -> ``ResultsCount`` when ``seed`` is None."""
        if seed is None:
            return {s: self.all_results[(dataset, s)] for s in self._seeds(dataset)}
        if (dataset, seed) not in self.all_results:
            raise BenchmarkError(f"no run of {dataset} with seed {seed}; expected one of {self.dataset_seed.get(dataset, [])}")
        return self.all_results[(dataset, seed)]

    def arch_idx_str(self) -> str:
        return f"{self.arch_index:06d}"

    def update(self, dataset_name: str, seed: int, result: ResultsCount) -> None:
        seeds = self.dataset_seed.setdefault(dataset_name, [])
        if seed in seeds:
            raise BenchmarkError(f"architecture {self.arch_index} already has seed {seed} on {dataset_name}; add each run once")
        self.dataset_seed[dataset_name] = sorted(seeds + [seed])
        self.all_results[(dataset_name, seed)] = result
        self.clear_net_done = False

    def state_dict(self) -> dict:
        state = dict(self.__dict__)
        state["all_results"] = {key: result.state_dict() for key, result in self.all_results.items()}
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        state = dict(state_dict)
        state["all_results"] = {tuple(key): ResultsCount.create_from_state_dict(value)
                                for key, value in state_dict["all_results"].items()}
        self.__dict__.update(state)

    @classmethod
    def create_from_state_dict(cls, state_dict_or_file: Any) -> "ArchResults":
        """Build from a state dict or from a ``.pth`` file holding one (loaded with ``weights_only=True``)."""
        if isinstance(state_dict_or_file, str):
            from .readers import load_torch_file

            state_dict_or_file = load_torch_file(state_dict_or_file)
        if not isinstance(state_dict_or_file, dict):
            raise BenchmarkError(f"cannot build ArchResults from {type(state_dict_or_file).__name__}; pass a state dict or a file path")
        results = cls(-1, "")
        results.load_state_dict(state_dict_or_file)
        return results

    def clear_params(self) -> None:
        """Drop the stored weights of every run (saves memory)."""
        for result in self.all_results.values():
            result.net_state_dict = None
        self.clear_net_done = True

    def debug_test(self) -> None:
        for dataset in self.dataset_seed:
            print(f"---->>>> {dataset}")
            print(f"The latency on {dataset} is {self.get_latency(dataset)} s")
            for seed in self.dataset_seed[dataset]:
                result = self.all_results[(dataset, seed)]
                print(f"  ==>> result = {result}")
                print(f"  ==>> cost = {result.get_times()}")

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(arch-index={self.arch_index}, arch={self.arch_str}, "
                f"{len(self.all_results)} runs, clear={self.clear_net_done})")


def _metric_text(info: dict) -> str:
    return f"loss = {info['loss']:.3f}, top1 = {info['accuracy']:.2f}%"


def print_information(information: ArchResults, extra_info: Any = None, show: bool = False) -> list[str]:
    """The official multi-line summary of one ``ArchResults`` (costs and final metrics per dataset)."""
    names = information.get_dataset_names()
    lines = [information.arch_str, f"datasets : {names}, extra-info : {extra_info}"]
    for dataset in names:
        costs = information.get_compute_costs(dataset)
        latency = costs["latency"]
        latency_text = f"{latency * 1000:.2f}" if latency is not None and latency > 0 else None
        lines.append(f"{dataset:14s} FLOP={costs['flops']:6.2f} M, Params={costs['params']:.3f} MB, latency={latency_text} ms.")
        parts = [f"train : [{_metric_text(information.get_metrics(dataset, 'train'))}]"]
        for label, setname in set_layout(dataset).summary:  # cifar10-valid: valid; cifar10: test; others: both
            parts.append(f"{label} : [{_metric_text(information.get_metrics(dataset, setname))}]")
        lines.append(f"{dataset:14s} " + ", ".join(parts))
    if show:
        print("\n".join(lines))
    return lines


__all__ = ["ArchResults", "ResultsCount", "print_information"]
