"""Print a summary of a finished cell search (and of the retraining of its cell)."""
import json

from autodl.algorithms.oneshot.run import search_summary, summary_text
from autodl.cli import ArgumentParser, run_directory, run_main


def main(argv=None) -> int:
    parser = ArgumentParser(description=__doc__)
    parser.add_argument("search_dir", type=run_directory, help="run directory of exps/search-cell.py (holds result.json)")
    parser.add_argument("--retrain", type=run_directory, default=None,
                        help="run directory of exps/train-searched.py for its cell")
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object (for scripts)")
    args = parser.parse_args(argv)
    summary = search_summary(args.search_dir, args.retrain)
    print(json.dumps(summary) if args.json else summary_text(summary))
    return 0


if __name__ == "__main__":
    run_main(main)
