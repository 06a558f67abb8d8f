"""Argument parsing shared by every ``exps/*.py``: bad input is one line on stderr and exit code 2."""
from __future__ import annotations

import argparse
import errno
import os
import sys
from typing import Callable, Sequence

from ..errors import AutoDLError
from ..utils import check_output_path


class DefaultsHelpFormatter(argparse.HelpFormatter):
    """Appends ``(default: X)`` to an option's help unless the default is None/False, the option is a
    switch that takes no value (``--no-amp``'s default True only says that it is off), or the help
    already says ``default``."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "default" in text or action.default in (None, False, argparse.SUPPRESS) or action.nargs == 0:
            return text
        if action.option_strings or action.nargs in (argparse.OPTIONAL, argparse.ZERO_OR_MORE):
            text += " (default: %(default)s)"
        return text


class ArgumentParser(argparse.ArgumentParser):
    """An ``argparse`` parser whose errors are a single ``prog: error: ...`` line (exit 2)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", DefaultsHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def positive_int(text: str) -> int:
    value = int_arg(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    value = int_arg(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}")
    return value


def int_arg(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def unit_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}")
    return value


def existing_file(text: str) -> str:
    if os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text!r} is a directory; pass a file in it")
    if not os.path.isfile(text):
        raise argparse.ArgumentTypeError(f"file {text!r} does not exist")
    return text


def run_directory(text: str) -> str:
    """The directory of a run that trained at least one epoch (it holds ``metrics.jsonl``)."""
    if not os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text!r} is a file, not a run directory" if os.path.exists(text)
                                         else f"run directory {text!r} does not exist")
    if not os.path.isfile(os.path.join(text, "metrics.jsonl")):
        raise argparse.ArgumentTypeError(f"{text!r} holds no metrics.jsonl, so no epoch of a run finished there; "
                                         "pass the --save-dir of a run that trained")
    return text


def output_dir(text: str) -> str:
    """A directory to write (a run's ``--save-dir``): refused at parsing, before anything is loaded or
    written, when it cannot be created or written (:func:`autodl.utils.check_output_path`)."""
    return _output_path(text, directory=True)


def output_file(text: str) -> str:
    """A file to write; refused at parsing like :func:`output_dir`."""
    return _output_path(text, directory=False)


def _output_path(text: str, directory: bool) -> str:
    try:
        check_output_path(text, directory)
    except AutoDLError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


# OSErrors caused by the paths a user passed (or by the machine), not by a bug: reported in one line
_PATH_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.EEXIST, errno.ENOTDIR, errno.EISDIR, errno.ENOSPC,
                errno.EDQUOT}


def run_main(main: Callable[[Sequence[str] | None], int | None], argv: Sequence[str] | None = None) -> None:
    """Run ``main(argv)``; an :class:`AutoDLError` becomes ``error: <message>`` on stderr and exit 2, and so
    does an ``OSError`` about a path that cannot be written (permissions, a file in the way, a full disk)
    that the entry point's own checks did not catch first."""
    try:
        code = main(argv)
    except AutoDLError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    except OSError as error:
        if error.errno not in _PATH_ERRNOS or error.filename is None:
            raise
        print(f"error: cannot use {error.filename}: {error.strerror}; pass another path, or free space or "
              "change permissions there", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted; a run resumes from its last checkpoint when the same command runs again "
              "(its log.txt says from which epoch)", file=sys.stderr)
        sys.exit(130)
    sys.exit(code or 0)
