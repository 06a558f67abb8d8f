"""exps/report.py: the README's tables from fabricated search and retraining run directories."""
from __future__ import annotations

import json
from pathlib import Path

from autodl.engine.flops import count_parameters
from autodl.models import create_model
from autodl.spaces.artifact import save_artifact
from autodl.spaces.nasnet import get_genotype

from warm_python import run_script

ROOT = Path(__file__).resolve().parents[1]
GENOTYPE = get_genotype("DARTS_V2")
MODEL = {"name": "nasnet-cifar", "genotype": GENOTYPE.to_dict(), "C": 2, "N": 1, "num_classes": 10,
         "auxiliary": False}


def write_run(path: Path, config: dict, records: list[dict], device: str) -> Path:
    path.mkdir(parents=True)
    (path / "config.json").write_text(json.dumps(config))
    (path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (path / "log.txt").write_text(f"[2026-12-01 10:00:00] device={device} settings={{}}\n")
    return path


def fabricate(root: Path) -> list[Path]:
    search = write_run(root / "search", {"algorithm": "nasp", "dataset": "cifar10"},
                       [{"epoch": 0, "valid_top1": 80.0}, {"epoch": 1, "valid_top1": 85.5}], "cuda:0")
    save_artifact(search / "result.json", GENOTYPE, algorithm="nasp", dataset="cifar10", seed=7,
                  search_cost_s=0.5 * 86400)
    runs = [search]
    for seed, errors in ((1, (5.0, 3.0)), (2, (6.0, 4.0))):
        records = [{"epoch": e, "test_top1": 100 - err, "epoch_time_s": 43200.0} for e, err in enumerate(errors)]
        runs.append(write_run(root / f"retrain-{seed}", {"model": MODEL, "optim": {"epochs": 2, "LR": 0.1}, "dataset": "cifar10",
                                                         "seed": seed}, records, "cpu"))
    runs.append(write_run(root / "unfinished", {"model": MODEL, "optim": {"epochs": 2, "LR": 0.1}, "dataset": "cifar10", "seed": 3},
                          [{"epoch": 0, "test_top1": 90.0, "epoch_time_s": 1.0}], "cpu"))
    (root / "empty").mkdir()
    runs.append(root / "empty")
    return runs


def test_report_renders_the_readme_tables_with_published_numbers_and_skips_what_is_not_a_finished_run(tmp_path):
    runs = fabricate(tmp_path)
    done = run_script(ROOT / "exps" / "report.py", *runs, "--output", tmp_path / "report.md")
    assert done.returncode == 0, done.stderr
    params = count_parameters(create_model(MODEL)) / 1e6
    expected = f"""### NASP

|Model|Error(%)|Search cost (days)|Genotypes|Val_acc of arch|Search-seed|
|:--:|:--:|:--:|:--:|:--:|:--:|
|NASP|2.83±0.09|0.10 GPU|Paper|-|-|
|NASP|3.34±0.07|0.25 GPU|AutoDL-Projects|-|-|
|NASP|3.50±0.50|0.50 GPU|Searched 1 (ours, cifar10)|85.50|7|

### Comparison

|Model|Error(%)|Search cost (days)|Genotypes|Params(M)|Train cost (days)|
|:--:|:--:|:--:|:--:|:--:|:--:|
|NASP|2.83±0.09|0.10 GPU|Paper|3.30|-|
|NASP|3.34±0.07|0.25 GPU|AutoDL-Projects|2.40|1.29 GPU|
|NASP|3.50±0.50|0.50 GPU|Searched 1 (ours, 2 seeds)|{params:.2f}|1.00 CPU|
"""
    assert (tmp_path / "report.md").read_text() == expected
    lines = done.stdout.splitlines()
    assert lines[:2] == [f"skipped {tmp_path / 'unfinished'}: unfinished retraining (1 of 2 epochs)",
                         f"skipped {tmp_path / 'empty'}: not a run directory (no config.json)"]
    assert lines[-1] == f"wrote {tmp_path / 'report.md'}"


def test_report_without_any_finished_run_is_one_line_exit_2(tmp_path):
    (tmp_path / "empty").mkdir()
    done = run_script(ROOT / "exps" / "report.py", tmp_path / "empty", "--output", tmp_path / "report.md")
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert "none of the 1 directories is a finished search or retraining" in done.stderr
    assert not (tmp_path / "report.md").exists()


def test_an_nb201_search_on_digits16_is_matched_to_its_retraining_on_digits(tmp_path):
    from autodl.report import collect, render
    from autodl.spaces.nb201 import Arch

    cell = "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|skip_connect~0|none~1|avg_pool_3x3~2|"
    search = write_run(tmp_path / "search", {"algorithm": "nasp", "dataset": "digits16"}, [{"valid_top1": 50.0}], "cpu")
    save_artifact(search / "result.json", Arch.from_str(cell), algorithm="nasp", dataset="digits16", seed=1,
                  search_cost_s=8.64)
    model = {"name": "infer.tiny", "C": 2, "N": 1, "arch_str": cell, "num_classes": 10}
    retrain = write_run(tmp_path / "retrain", {"model": model, "optim": {"epochs": 1, "LR": 0.1}, "dataset": "digits",
                                                "seed": 1}, [{"test_top1": 90.0, "epoch_time_s": 8.64}], "cpu")
    other = write_run(tmp_path / "other", {"model": model, "optim": {"epochs": 1, "LR": 0.1}, "dataset": "cifar100",
                                            "seed": 1}, [{"test_top1": 10.0, "epoch_time_s": 1.0}], "cpu")
    searches, retrains, skipped = collect([search, retrain, other])
    assert skipped == [] and [r.path for r in searches[0].retrainings] == [retrain]
    text = render(searches, retrains)
    assert "|NASP|10.00±0.00|1.00e-04 CPU|Searched 1 (ours, 1 seeds)|" in text
    assert "|-|90.00|-|\\|nor_conv_3x3~0\\|+\\|skip_connect~0\\|" in text  # the unmatched cifar100 retraining


def fabricate_search(root: Path, arch, space: str, benchmark=None) -> Path:
    record = {"epoch": 2, "valid_top1": 61.25, "skip_fraction": 0.25, "none_fraction": 0.0, "arch_entropy": 1.5}
    search = write_run(root / "search", {"algorithm": "gdas", "dataset": "cifar10"}, [record], "cpu")
    save_artifact(search / "result.json", arch, algorithm="gdas", dataset="cifar10", seed=3, search_cost_s=12.5,
                  space=space, epochs=3, benchmark=benchmark)
    (search / "cell-normal.png").write_bytes(b"")
    return search


def test_search_summary_prints_aligned_text_with_one_line_per_cell_and_json_on_request(tmp_path):
    from autodl.viz import cell_text

    search = fabricate_search(tmp_path, GENOTYPE, "nasnet")
    retrain = write_run(tmp_path / "retrain", {"model": MODEL}, [{"epoch": 0, "test_top1": 90.5}], "cpu")
    done = run_script(ROOT / "exps" / "search-summary.py", search, "--retrain", retrain)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "gdas on cifar10 (nasnet space, seed 3): 3 epochs in 12.5 s",
        f"  normal cell      {cell_text(GENOTYPE)}",
        f"  reduce cell      {cell_text(GENOTYPE, reduction=True)}",
        "  supernet         valid top-1 61.25%, skip 0.25, none 0.00, entropy 1.500 nats",
        f"  retrained        test top-1 90.50% after 1 epochs ({retrain})",
        f"  drawings         {search / 'cell-normal.png'}"]
    assert "\"normal\"" not in done.stdout and "Genotype(" not in done.stdout  # no raw JSON or repr
    machine = run_script(ROOT / "exps" / "search-summary.py", search, "--retrain", retrain, "--json")
    summary = json.loads(machine.stdout)
    assert summary["arch"] == GENOTYPE.to_dict() and summary["retrained"] == {"test_top1": 90.5, "epochs": 1,
                                                                              "path": str(retrain)}
    assert summary["supernet"] == {"valid_top1": 61.25, "skip_fraction": 0.25, "none_fraction": 0.0, "arch_entropy": 1.5}
    assert (summary["algorithm"], summary["seed"], summary["epochs"], summary["benchmark"]) == ("gdas", 3, 3, None)


def test_search_summary_of_an_nb201_cell_shows_its_string_and_benchmark_numbers(tmp_path):
    cell = "|nor_conv_3x3~0|+|skip_connect~0|none~1|+|none~0|none~1|skip_connect~2|"
    search = fabricate_search(tmp_path, cell, "nas-bench-201", {"hp": "200", "split": "x-valid", "bench_valid": 84.5, "bench_test": 88.25})
    lines = run_script(ROOT / "exps" / "search-summary.py", search).stdout.splitlines()
    assert lines[1] == f"  found cell       {cell}" and lines[3] == "  NAS-Bench-201    valid 84.50, test 88.25"


def test_a_search_result_prints_its_cell_not_a_repr():
    from autodl.algorithms.oneshot.run import result_text
    from autodl.viz import cell_text

    assert result_text("gdas", GENOTYPE, "out/result.json").splitlines() == [
        "gdas: found -> out/result.json", f"  normal cell: {cell_text(GENOTYPE)}",
        f"  reduce cell: {cell_text(GENOTYPE, reduction=True)}"]
    cell = "|nor_conv_3x3~0|+|skip_connect~0|none~1|+|none~0|none~1|skip_connect~2|"
    assert result_text("gdas", cell, "r.json") == f"gdas: {cell} -> r.json"
