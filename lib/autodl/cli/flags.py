"""Flag groups that several entry points share (training, cell search, shape search, HPO) and the
keyword arguments the run flags become."""
from __future__ import annotations

import argparse
import os
from typing import Any, Sequence

from ..utils import MAX_STEPS_VARIABLE
from . import int_arg, non_negative_int, positive_int


def add_data_flags(parser: argparse.ArgumentParser, datasets: Sequence[str]) -> None:
    """``--dataset`` (one of ``datasets``, required) and ``--data-path``."""
    parser.add_argument("--dataset", required=True, choices=datasets, help="dataset (digits is built in)")
    parser.add_argument("--data-path", default=None, help="dataset root (default: $TORCH_HOME/cifar.python)")


def add_run_flags(parser: argparse.ArgumentParser) -> None:
    """The flags of a run that trains in this process: seed, data workers, device, determinism, quiet."""
    parser.add_argument("--seed", type=int_arg, default=-1, help="random seed; negative picks one (kept on resume)")
    parser.add_argument("--workers", type=non_negative_int, default=0, help="data-loading processes")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:K")
    parser.add_argument("--deterministic", action="store_true", help="deterministic kernels (slower on GPU)")
    parser.add_argument("--quiet", action="store_true",
                        help="no log echo on stdout and no progress bar: one progress line per epoch on stderr, and the result")
    parser.add_argument("--max-steps-per-epoch", type=positive_int, default=None, metavar="N",
                        help=f"smoke runs: every epoch trains N steps and every evaluation reads N batches (the same as "
                             f"${MAX_STEPS_VARIABLE}=N, which the launchers pass on)")


def run_options(args: argparse.Namespace) -> dict[str, Any]:
    """The keywords of :func:`add_data_flags` and :func:`add_run_flags`'s flags, as the run functions
    (``train_classifier``, ``run_search``, ``run_shape_search``) take them.  ``--max-steps-per-epoch`` is no
    keyword: it sets ``$AUTODL_MAX_STEPS_PER_EPOCH``, which the Trainer and the evaluation loaders of this
    process (and of the processes it starts) read."""
    if args.max_steps_per_epoch is not None:
        os.environ[MAX_STEPS_VARIABLE] = str(args.max_steps_per_epoch)
    return dict(data_path=args.data_path, seed=args.seed, workers=args.workers, device=args.device,
                deterministic=args.deterministic, progress="epochs" if args.quiet else None, echo=not args.quiet)
