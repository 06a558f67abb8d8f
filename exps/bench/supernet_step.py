"""Median time of a search step of every registered one-shot search on the NB201 supernet (C=16, N=5,
batch 64, 32 x 32 random inputs, 10 classes, CPU), of the fused supernet's two weight-step modes against the
per-op reference supernet (:func:`autodl.models.supernet_nb201.per_op_copy`, the original's formulation),
and of the convolution throughput this CPU reaches at the supernet's shapes.

Prints one JSON line per measurement (``autodl.utils.emit_benchmark``):

- ``<algo>/search-step`` (s, median over the repeats) for every registered search offered on the NB201
  space with a shipped recipe (a new algorithm is measured the day it is registered): its whole
  ``search_step`` as the engine calls it (weight and architecture halves), with its counted conv GFLOP;
- ``supernet/weighted-weight-step`` / ``reference/weighted-weight-step`` (the weighted sum over all ops,
  DARTS's weight step, on the fused / the per-op supernet) and ``supernet/gdas-weight-step`` /
  ``reference/gdas-weight-step`` (only the sampled op runs), interleaved with the rest;
- ``supernet/<mode>-speedup-vs-reference`` (reference time / fused time, median of the per-repeat ratios;
  targets 2x weighted, 1.5x GDAS);
- ``peak/conv<k>-c<C>-<px>px-out<W>`` (GFLOP/s of F.conv2d forward + backward, the better layout) and
  ``peak/conv-best``, the best of them: the physical limit the steps are compared with;
- ``<case>-fraction-of-peak``: the step's conv FLOP rate over that best rate (conv FLOPs counted per
  F.conv2d call: 3 x its forward FLOPs under autograd, 1 x without; the classifier is a linear layer);
- ``check/weighted-max-abs-diff``, ``check/gdas-max-abs-diff``, ``check/indices-max-abs-diff``:
  the fast and the reference logits on the same inputs and weights in float64 (above 1e-5 the script
  exits 1), and ``check/<mode>-float32-max-abs-diff`` with the float32 layout noise floor (see
  :func:`check_equivalence`).

Every case is timed once per repeat, the cases in turn, the order reversed on every other repeat so
machine noise hits all alike.  The GDAS weight steps (fused and reference) cycle through one fixed set
of 8 Gumbel draws (seeded), one pass over all 8 per repeat, so both sides run the same cells.
"""
from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F

from autodl.algorithms import ALGORITHMS as ALGORITHM_REGISTRY
from autodl.algorithms import create_algorithm
from autodl.algorithms.oneshot.gdas import gumbel_hard
from autodl.algorithms.oneshot.run import load_search_recipe, supernet_config
from autodl.data.search import SearchLoaders
from autodl.models import create_model
from autodl.models.supernet_nb201 import CONV1, CONV3, NB201SuperNet, per_op_copy
from autodl.utils import emit_benchmark

BENCH = "supernet_step"
RECIPES = Path(__file__).resolve().parents[2] / "configs" / "search" / "nas-bench-201"
TOLERANCE = 1e-5
GDAS_DRAWS = 8


def emit(case: str, value: float, unit: str, **extra) -> None:
    emit_benchmark(BENCH, case, value, unit, **extra)


# ------------------------------------------------------------------------------ conv FLOPs
def conv_flops(net: NB201SuperNet, batch: int, size: int, indices: list[int] | None) -> float:
    """Forward conv FLOPs (2 x multiply-adds) of one forward: the stem, the ResNet reductions and, in each
    search cell, the 1 x 1 / 3 x 3 convs that run (all of them with ``indices`` None, else the edges'
    selected ones).  The classifier is left out."""
    C = net.C
    n1 = 6 if indices is None else sum(op == CONV1 for op in indices)
    n3 = 6 if indices is None else sum(op == CONV3 for op in indices)
    flops = 2.0 * batch * C * 3 * 9 * size * size  # stem
    width, pixels = C, size * size
    for cell in net.cells:
        if hasattr(cell, "conv_a"):  # ResNet reduction, stride 2
            out, pixels = 2 * width, pixels // 4
            flops += 2.0 * batch * pixels * (out * width * 9 + out * out * 9 + out * width)
            width = out
        else:
            flops += 2.0 * batch * pixels * width * width * (n1 + 9 * n3)
    return flops


@contextmanager
def counted_convs():
    """Count the FLOPs of every F.conv2d call in the block (``record[0]``): its forward FLOPs, times 3 where
    autograd will also run its backward (the input and the weight gradients)."""
    original, record = F.conv2d, [0.0]

    def conv2d(inputs, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        out = original(inputs, weight, bias, stride, padding, dilation, groups)
        record[0] += (3.0 if out.requires_grad else 1.0) * 2.0 * out.numel() * weight[0].numel()
        return out

    F.conv2d = conv2d
    try:
        yield record
    finally:
        F.conv2d = original


# --------------------------------------------------------------------------------- checks
def check_equivalence(net: NB201SuperNet, inputs: torch.Tensor, draws) -> bool:
    """Fast vs per-op logits (train mode, batch statistics) on the same inputs and weights, in the
    weighted, GDAS and indices-only modes; prints the results, returns whether all hold.

    In float64 the two formulations must agree within 1e-5 (they agree to ~1e-13).  In float32 they
    differ by rounding (the fast cells compute in NHWC, where oneDNN accumulates in another order), and
    17 batch-normalised layers amplify it to about 1e-5 on the logits: the same per-op reference fed an
    NHWC input differs from itself in NCHW by as much (``layout_noise_floor``).  The float32 check
    passes within max(1e-5, 2 x that floor).  Also checks the analytic conv FLOPs against the counted."""
    net = copy.deepcopy(net).train()
    with torch.no_grad():
        net.arch.copy_(torch.randn(net.arch.shape, generator=torch.Generator().manual_seed(1)))
    reference = per_op_copy(net).train()
    batch, size = inputs.shape[0], inputs.shape[-1]
    weights = F.softmax(net.arch.detach(), dim=-1)
    choices = {"weighted": [dict(weights=[weights])],
               "gdas": [dict(weights=[hard], indices=[index]) for hard, index in draws],
               "indices": [dict(indices=[index]) for _, index in draws[:2]]}
    ok = True
    with torch.no_grad():
        counts_ok = True
        diffs32: dict[str, list[float]] = {mode: [] for mode in choices}
        floors: dict[str, list[float]] = {mode: [] for mode in choices}
        nhwc = inputs.contiguous(memory_format=torch.channels_last)
        for mode, kwargs in choices.items():
            for choice in kwargs:
                with counted_convs() as fast_count:
                    fast = net(inputs, **choice)[1]
                with counted_convs() as ref_count:
                    ref = reference(inputs, **choice)[1]
                diffs32[mode].append(float((fast - ref).abs().max()))
                floors[mode].append(float((reference(nhwc, **choice)[1] - ref).abs().max()))
                indices = choice.get("indices", [None])[0]
                counts_ok &= fast_count[0] == ref_count[0] == conv_flops(net, batch, size, indices)
        net, reference, inputs = net.double(), reference.double(), inputs.double()
        diffs64 = {mode: [float((net(inputs, **c64)[1] - reference(inputs, **c64)[1]).abs().max())
                          for c64 in ({k: [v[0].double() if torch.is_tensor(v[0]) else v[0]] for k, v in c.items()}
                                      for c in kwargs)]
                   for mode, kwargs in choices.items()}
    for mode in choices:
        worst = max(diffs64[mode])
        passed = worst <= TOLERANCE
        ok &= passed
        emit(f"check/{mode}-max-abs-diff", worst, "abs", dtype="float64", tolerance=TOLERANCE, passed=passed,
             archs=len(diffs64[mode]))
    for mode in choices:
        worst, floor = max(diffs32[mode]), max(floors[mode])
        tolerance = max(TOLERANCE, 2 * floor)
        passed = worst <= tolerance
        ok &= passed
        emit(f"check/{mode}-float32-max-abs-diff", worst, "abs", dtype="float32", layout_noise_floor=floor,
             tolerance=tolerance, passed=passed, archs=len(diffs32[mode]))
    emit("check/conv-flop-count", counts_ok, "bool", note="analytic conv FLOPs == F.conv2d calls counted, fast and reference")
    return ok and counts_ok


# ----------------------------------------------------------------------------- peak rate
def peak_conv_rates(C: int, size: int, batch: int, repeats: int) -> dict[str, dict[str, float]]:
    """GFLOP/s of F.conv2d forward + backward (input and weight gradients) at every stage's shape
    (C, 2C, 4C channels at size, size/2, size/4 px), 1 x 1 and 3 x 3, output widths 1-3 x the input
    width (the stacked convs of the grouped cells), NCHW and channels_last; the best time of ``repeats``."""
    rates = {}
    for stage in range(3):
        width, px = C * 2 ** stage, size // 2 ** stage
        for kernel in (1, 3):
            for stack in (1, 2, 3):
                out = stack * width
                flops = 3 * 2.0 * batch * out * width * kernel * kernel * px * px
                per_layout = {}
                for layout in (torch.contiguous_format, torch.channels_last):
                    x = torch.randn(batch, width, px, px).to(memory_format=layout).requires_grad_()
                    w = (0.1 * torch.randn(out, width, kernel, kernel)).to(memory_format=layout).requires_grad_()
                    grad = torch.randn(batch, out, px, px).to(memory_format=layout)
                    best = float("inf")
                    for _ in range(repeats + 1):  # the first is a warm-up
                        x.grad = w.grad = None
                        start = time.perf_counter()
                        F.conv2d(x, w, padding=kernel // 2).backward(grad)
                        best = min(best, time.perf_counter() - start)
                    per_layout["channels_last" if layout is torch.channels_last else "nchw"] = flops / best / 1e9
                rates[f"conv{kernel}x{kernel}-c{width}-{px}px-out{out}"] = per_layout
    return rates


# ------------------------------------------------------------------------------- the steps
def nb201_algorithms() -> list[str]:
    """Every registered search that runs on the NB201 space with a shipped recipe."""
    return [name for name in ALGORITHM_REGISTRY.names()
            if "nas-bench-201" in ALGORITHM_REGISTRY.get(name).spaces and ALGORITHM_REGISTRY.get(name).recipe]


def build_task(name: str, batches, supernet=None):
    """Algorithm ``name`` with its NB201 recipe at C=16 N=5 (no BN statistics), at epoch 0, its loaders
    holding the one paired batch ``batches``; its own supernet (seeded 0, so that the algorithms sharing the
    space's supernet start from the same weights) or ``supernet``."""
    optim, search = load_search_recipe(RECIPES / f"{ALGORITHM_REGISTRY.get(name).recipe}.json", name,
                                       channel=16, num_cells=5, track_running_stats=False)
    if supernet is None:
        torch.manual_seed(0)
        supernet = create_model(supernet_config(name, search, 10))
    inputs, targets, arch_inputs, arch_targets = batches
    loaders = SearchLoaders([batches], [(inputs, targets)], [(arch_inputs, arch_targets)])
    task = create_algorithm(name, supernet, loaders, optim, search, torch.device("cpu"))
    task.start_epoch(0, optim.epochs)
    return task


def make_cases(tasks, supernet_tasks, batches, draws) -> dict[str, Callable[[], float]]:
    """Each case runs one step and returns its conv FLOPs (counted: 3 x the forward FLOPs of a conv under
    autograd, 1 x without).  ``<algo>/search-step`` is the algorithm's whole step as the engine calls it;
    the two supernet cases run DARTS's weighted weight step and GDAS's sampled weight step (one per fixed
    draw) on the fused supernet and on the per-op reference."""
    inputs, targets, arch_inputs, arch_targets = batches
    cases: dict[str, Callable[[], float]] = {}

    def counted(run: Callable[[], object]) -> Callable[[], float]:
        def step() -> float:
            with counted_convs() as record:
                run()
            return record[0]
        return step

    def weighted_weight(task):
        return counted(lambda: task.weight_step(inputs, targets, weights=task.softmax_weights()))

    def gdas_weight(task):
        def run():
            for hard, index in draws:
                task.weight_step(inputs, targets, [hard], [index])
        step = counted(run)
        return lambda: step() / len(draws)

    for name, task in tasks.items():
        paired = task.train_loader is task.loaders.search
        batch_of = batches if paired else (inputs, targets)
        cases[f"{name}/search-step"] = counted(lambda task=task, batch_of=batch_of: task.search_step(*batch_of))
    cases["supernet/weighted-weight-step"] = weighted_weight(supernet_tasks["fast-weighted"])
    cases["reference/weighted-weight-step"] = weighted_weight(supernet_tasks["weighted"])
    cases["supernet/gdas-weight-step"] = gdas_weight(supernet_tasks["fast-gdas"])
    cases["reference/gdas-weight-step"] = gdas_weight(supernet_tasks["gdas"])
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (3 instead of 7)")
    parser.add_argument("--repeats", type=int, default=0, help="timed repeats per case (default 7, --quick 3)")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads (default 2)")
    algorithms = nb201_algorithms()
    parser.add_argument("--algorithms", default=",".join(algorithms),
                        help="comma-separated subset of the registered NB201 searches: " + ", ".join(algorithms))
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    names = [n for n in args.algorithms.split(",") if n]
    if any(n not in algorithms for n in names):
        parser.error(f"--algorithms takes a subset of {', '.join(algorithms)}")
    repeats = args.repeats or (3 if args.quick else 7)
    torch.set_num_threads(args.threads)
    batch, size = args.batch_size, 32

    torch.manual_seed(0)
    net = NB201SuperNet(16, 5, 10, track_running_stats=False)
    data = torch.Generator().manual_seed(0)
    batches = (torch.randn(batch, 3, size, size, generator=data), torch.randint(0, 10, (batch,), generator=data),
               torch.randn(batch, 3, size, size, generator=data), torch.randint(0, 10, (batch,), generator=data))
    sampler = torch.Generator().manual_seed(0)
    draws = [tuple(x.detach() if isinstance(x, torch.Tensor) else x for x in gumbel_hard(net.arch, 10.0, sampler))
             for _ in range(GDAS_DRAWS)]

    if not check_equivalence(net, batches[0], draws):
        print("the fast supernet's logits differ from the per-op reference's beyond the tolerance "
              "(see the check/ lines), or the conv FLOP count disagrees", file=sys.stderr)
        sys.exit(1)

    rates = peak_conv_rates(16, size, batch, 3 if args.quick else 5)
    for shape, per_layout in rates.items():
        layout = max(per_layout, key=per_layout.get)
        emit(f"peak/{shape}", round(per_layout[layout], 2), "GFLOP/s", layout=layout,
             **{f"{k}_gflops": round(v, 2) for k, v in per_layout.items()})
    peak_shape, peak_layout = max(((s, l) for s, p in rates.items() for l in p), key=lambda sl: rates[sl[0]][sl[1]])
    peak = rates[peak_shape][peak_layout] * 1e9
    emit("peak/conv-best", round(peak / 1e9, 2), "GFLOP/s", shape=peak_shape, layout=peak_layout)

    tasks = {name: build_task(name, batches) for name in names}
    reference = per_op_copy(net)
    supernet_tasks = {"fast-weighted": build_task("darts-v1", batches, copy.deepcopy(net)),
                      "weighted": build_task("darts-v1", batches, copy.deepcopy(reference)),
                      "fast-gdas": build_task("gdas", batches, copy.deepcopy(net)),
                      "gdas": build_task("gdas", batches, copy.deepcopy(reference))}
    cases = make_cases(tasks, supernet_tasks, batches, draws)

    samples: dict[str, list[tuple[float, float]]] = {case: [] for case in cases}
    for step in cases.values():  # warm-up: allocator, oneDNN primitives, optimiser state
        step()
    order = list(cases)
    for repeat in range(repeats):
        for case in (order if repeat % 2 == 0 else order[::-1]):
            start = time.perf_counter()
            flops = cases[case]()
            seconds = time.perf_counter() - start
            if case.endswith("gdas-weight-step"):
                seconds /= len(draws)
            samples[case].append((seconds, flops))

    medians = {case: statistics.median(s for s, _ in values) for case, values in samples.items()}
    for case, values in samples.items():
        emit(case, round(medians[case], 4), "s", repeats=repeats, batch_size=batch,
             conv_gflop=round(statistics.mean(f for _, f in values) / 1e9, 3),
             min_s=round(min(s for s, _ in values), 4), max_s=round(max(s for s, _ in values), 4))

    for mode, target in (("weighted", 2.0), ("gdas", 1.5)):
        case, ref_case = f"supernet/{mode}-weight-step", f"reference/{mode}-weight-step"
        ratios = [r / f for (r, _), (f, _) in zip(samples[ref_case], samples[case])]
        ratio = statistics.median(ratios)
        emit(f"supernet/{mode}-speedup-vs-reference", round(ratio, 3), "x", reference=ref_case, target=target,
             met=ratio >= target, ratio_of_medians=round(medians[ref_case] / medians[case], 3),
             per_repeat=[round(r, 3) for r in ratios])

    for case, values in samples.items():
        fraction = statistics.median(f / s for s, f in values) / peak
        emit(f"{case}-fraction-of-peak", round(fraction, 4), "fraction",
             conv_gflops=round(fraction * peak / 1e9, 2), peak_gflops=round(peak / 1e9, 2))


if __name__ == "__main__":
    main()
