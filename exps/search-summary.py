"""Print a summary of a finished cell search (and of the retraining of its cell)."""
from autodl.algorithms.oneshot.run import summarize_search
from autodl.cli import ArgumentParser, run_directory, run_main


def main(argv=None) -> int:
    parser = ArgumentParser(description=__doc__)
    parser.add_argument("search_dir", type=run_directory, help="run directory of exps/search-cell.py (holds result.json)")
    parser.add_argument("--retrain", type=run_directory, default=None,
                        help="run directory of exps/train-searched.py for its cell")
    args = parser.parse_args(argv)
    print(summarize_search(args.search_dir, args.retrain))
    return 0


if __name__ == "__main__":
    run_main(main)
