"""The flags shared by the classifier-training entry points (basic-main, KD-main) and the call they make."""
from __future__ import annotations

import argparse
from typing import Any

from ..config import OptimConfig, load_any_config
from ..data import DATASETS
from ..engine.distributed import env_dist_info
from ..engine.train import TrainResult, train_classifier
from . import ArgumentParser, existing_file, non_negative_int, output_dir, positive_float, positive_int
from .flags import add_data_flags, add_run_flags, run_options


def training_parser(description: str, model: bool = True) -> ArgumentParser:
    """The training flags; ``model=False`` leaves out ``--model`` for entry points that build the config."""
    parser = ArgumentParser(description=description)
    add_data_flags(parser, DATASETS.names())
    if model:
        parser.add_argument("--model", required=True, type=existing_file, help="model config JSON (configs/archs)")
    parser.add_argument("--optim", required=model, type=existing_file,
                        help="optimiser recipe: JSON (configs/opts) or an original .config file")
    parser.add_argument("--save-dir", required=True, type=output_dir,
                        help="run directory (config.json, log.txt, metrics.jsonl, checkpoint/); reused = resumed")
    parser.add_argument("--epochs", type=positive_int, default=None, help="override the recipe's schedule epochs")
    parser.add_argument("--warmup", type=non_negative_int, default=None, help="override the recipe's warm-up epochs")
    parser.add_argument("--lr", type=positive_float, default=None, help="override the recipe's learning rate")
    parser.add_argument("--batch-size", type=positive_int, default=None,
                        help="training batch per process (default: the recipe's, else 256)")
    parser.add_argument("--test-batch-size", type=positive_int, default=None,
                        help="evaluation batch (default: the training batch)")
    parser.add_argument("--cutout", type=non_negative_int, default=0, help="cutout length, 0 disables")
    parser.add_argument("--eval-frequency", type=positive_int, default=1, help="evaluate every N epochs (and at the end)")
    parser.add_argument("--no-amp", dest="amp", action="store_false", help="disable mixed precision on CUDA")
    parser.add_argument("--init-model", type=existing_file, default=None, help="initialise weights from a checkpoint")
    add_run_flags(parser)
    return parser


def train_from_args(args: argparse.Namespace, model_config: Any = None, **extra: Any) -> TrainResult:
    """Load the recipe named by ``args`` (with its overrides) and train ``model_config`` (default:
    ``args.model``); ``extra`` goes to :func:`train_classifier`."""
    optim = load_any_config(OptimConfig, args.optim, epochs=args.epochs, warmup=args.warmup, LR=args.lr)
    result = train_classifier(model_config if model_config is not None else args.model, optim, args.dataset,
                              args.save_dir, batch_size=args.batch_size, test_batch_size=args.test_batch_size,
                              cutout=args.cutout, eval_frequency=args.eval_frequency, amp=args.amp,
                              init_model=args.init_model, **run_options(args), **extra)
    if env_dist_info().is_main:  # the result, --quiet or not (rank 0 of a torchrun job)
        print(result_line(result.history, args.save_dir))
    return result


def result_line(history: list[dict[str, Any]], save_dir: Any) -> str:
    """What a training ended with: the last and best test top-1 and the run directory."""
    tested = [record["test_top1"] for record in history if "test_top1" in record]
    if not tested:
        return f"finished {len(history)} epochs without a test evaluation -> {save_dir}"
    return (f"finished {len(history)} epochs: test top-1 {history[-1].get('test_top1', tested[-1]):.2f}% "
            f"(best {max(tested):.2f}%) -> {save_dir}")
