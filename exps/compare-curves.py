"""Compare the anytime curves of multi-trial searches (e.g. REA, random search, REINFORCE and BOHB) in one plot.

Each RUN_DIR is the --save-dir of an exps/search-multitrial.py search (one run or --runs K); its curves.csv is
drawn as a line (the mean over its runs) with a band (their std), labelled by its algorithm.  The searches must
share an evaluator and a dataset (one x and y axis).  Needs matplotlib (pip install -e .[plot]).
See docs/MULTI-TRIAL.md."""
import json
from pathlib import Path

from autodl.algorithms.multitrial.curves import (CURVES_CSV, PLOT_HINT, axis_labels, plot_curves, read_curve_csv,
                                                 shared_metric)
from autodl.algorithms.multitrial.settings import SearchSettings
from autodl.cli import ArgumentParser, run_main
from autodl.errors import ConfigError


def run_settings(folder: Path) -> tuple[SearchSettings, int]:
    """The settings of the search in ``folder`` and its number of runs."""
    if (folder / "summary.json").is_file():
        summary = json.loads((folder / "summary.json").read_text())
        return SearchSettings(**summary["settings"]), len(summary["runs"])
    if (folder / "result.json").is_file():
        return SearchSettings(**json.loads((folder / "result.json").read_text())["config"]["settings"]), 1
    raise ConfigError(f"{folder} holds no summary.json or result.json; give the --save-dir of a finished "
                      "exps/search-multitrial.py search")


def main(argv=None) -> int:
    parser = ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dirs", nargs="+", type=Path, metavar="RUN_DIR", help="search-multitrial run directories")
    parser.add_argument("--output", required=True, type=Path, help="PNG to write")
    parser.add_argument("--label", action="append", default=None,
                        help="legend label of each RUN_DIR, in order (default: algorithm and number of runs)")
    args = parser.parse_args(argv)
    if args.label is not None and len(args.label) != len(args.run_dirs):
        raise ConfigError(f"--label was given {len(args.label)} times for {len(args.run_dirs)} run directories; "
                          "give one per directory or none")
    found = [run_settings(folder) for folder in args.run_dirs]
    kinds = {(settings.evaluator, settings.dataset, settings.proxy if settings.evaluator == "proxy" else None)
             for settings, _ in found}
    if len(kinds) > 1:
        raise ConfigError("the searches do not share one evaluator and dataset ("
                          + "; ".join(sorted(" ".join(filter(None, kind)) for kind in kinds))
                          + "), so their curves have no common axes; compare searches of one evaluator and dataset")
    curves = [read_curve_csv(folder / CURVES_CSV) for folder in args.run_dirs]
    labels = args.label or [settings.algorithm if runs == 1 else f"{settings.algorithm} ({runs} runs)"
                            for settings, runs in found]
    if len(set(labels)) < len(labels):
        raise ConfigError(f"two run directories have the label {max(labels, key=labels.count)!r}; "
                          "name each with --label")
    metric = shared_metric(curves)
    if not plot_curves(args.output, dict(zip(labels, curves)), *axis_labels(found[0][0], metric), metric):
        raise ConfigError(f"cannot draw {args.output}: {PLOT_HINT}")
    print(f"{metric.replace('_', ' ')} of {len(curves)} searches -> {args.output}")
    return 0


if __name__ == "__main__":
    run_main(main)
