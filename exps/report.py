"""Rebuild the README's results tables (AutoDL-Projects "Results on CIFAR10") from run directories:
searches (exps/search-cell.py) and retrainings of their cells (exps/train-searched.py), with the
published numbers beside ours; printed in Markdown and written to --output.  See docs/REPRODUCE.md."""
from pathlib import Path

from autodl.report import collect, render
from autodl.cli import ArgumentParser, output_file, run_main
from autodl.errors import ConfigError
from autodl.utils import atomic_write_text


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(description=__doc__.split(";")[0].split("\n\n")[0])
    parser.add_argument("runs", nargs="+", help="search and retraining run directories")
    parser.add_argument("--output", type=output_file, default="report.md", help="Markdown file to write")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    searches, retrains, skipped = collect(args.runs)
    for line in skipped:
        print(line)
    if not searches and not retrains:
        raise ConfigError(f"none of the {len(args.runs)} directories is a finished search or retraining; "
                          "pass the --save-dir of exps/search-cell.py or exps/train-searched.py runs")
    text = render(searches, retrains)
    atomic_write_text(Path(args.output), text)
    print(text, end="")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    run_main(main)
