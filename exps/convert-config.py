"""Convert an original typed ``.config`` file (``{"key": [type, value]}``) to plain JSON."""
from __future__ import annotations

from autodl.cli import ArgumentParser, output_file, run_main
from autodl.config import read_legacy_config, write_json


def main(argv=None) -> int:
    parser = ArgumentParser(description="Convert an original AutoDL-Projects .config file to JSON.")
    parser.add_argument("source", help="the .config file")
    parser.add_argument("target", type=output_file, help="the JSON file to write (parents are created)")
    args = parser.parse_args(argv)
    write_json(read_legacy_config(args.source), args.target)
    return 0


if __name__ == "__main__":
    run_main(main)
