"""Search the widths and/or depths of a ResNet under a FLOP target with TAS (transformable architecture search);
re-running with the same --save-dir resumes.  See docs/TAS.md."""
from pathlib import Path

from autodl.algorithms.shape import BASELINES, ShapeSearchConfig, run_shape_search, write_baseline_shape
from autodl.cli import ArgumentParser, existing_file, output_dir, positive_float, positive_int, run_main
from autodl.cli.flags import add_data_flags, add_run_flags, run_options
from autodl.config import OptimConfig, load_any_config
from autodl.data import DATASETS
from autodl.models.shape_search import SEARCH_MODES
from autodl.models.shape_torchvision import TORCHVISION_RESNETS

SEARCH_OPTS = Path(__file__).resolve().parents[1] / "configs" / "search-opts"
DEFAULTS = ShapeSearchConfig()


def base_model(text: str):
    """A torchvision ResNet name (as its unpruned shape config) or the path of a model config."""
    if text in TORCHVISION_RESNETS:
        return {"name": "shape-torchvision-resnet", "arch": text}
    return existing_file(text)


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(description=__doc__.split(";")[0])
    add_data_flags(parser, DATASETS.names())
    parser.add_argument("--model", required=True, type=base_model,
                        help="base ResNet to prune: a config (configs/archs/CIFAR-ResNet*.json, ImageNet-ResNet*V1.json) "
                             f"or a torchvision ResNet ({', '.join(TORCHVISION_RESNETS)})")
    parser.add_argument("--mode", default="shape", choices=SEARCH_MODES, help="search the width, the depth or both")
    parser.add_argument("--optim", type=existing_file, default=str(SEARCH_OPTS / "CIFARX.json"),
                        help="weight optimiser recipe, JSON or an original .config (default: configs/search-opts/CIFARX.json)")
    parser.add_argument("--save-dir", required=True, type=output_dir, help="run directory; reused = resumed")
    parser.add_argument("--split-path", type=existing_file, default=None,
                        help="train/valid split file from exps/prepare.py (default: each class halved, seed 111)")
    parser.add_argument("--flop-ratio", type=positive_float, default=DEFAULTS.flop_ratio,
                        help="FLOP target as a share of the unpruned network's FLOPs")
    parser.add_argument("--flop-weight", type=float, default=DEFAULTS.flop_weight, help="weight of the FLOP loss")
    parser.add_argument("--flop-tolerance", type=float, default=DEFAULTS.flop_tolerance,
                        help="tolerance below the target, as a share of the unpruned FLOPs")
    parser.add_argument("--arch-lr", type=positive_float, default=DEFAULTS.arch_LR, help="Adam learning rate of the shape logits")
    parser.add_argument("--arch-decay", type=float, default=DEFAULTS.arch_decay, help="Adam weight decay of the shape logits")
    parser.add_argument("--tau-max", type=positive_float, default=DEFAULTS.tau_max, help="initial Gumbel temperature")
    parser.add_argument("--tau-min", type=positive_float, default=DEFAULTS.tau_min, help="final Gumbel temperature")
    parser.add_argument("--baseline", choices=BASELINES, default=None,
                        help="write an ablation baseline instead of searching: fix (every width x sqrt(ratio)) or "
                             "random (widths near that, random depths), as <save-dir>/<kind>-<ratio>-seed-<seed>.json")
    parser.add_argument("--epochs", type=positive_int, default=None, help="override the recipe's schedule epochs")
    parser.add_argument("--batch-size", type=positive_int, default=None, help="override the recipe's batch size")
    parser.add_argument("--test-batch-size", type=positive_int, default=None, help="valid-half batch size")
    add_run_flags(parser)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.baseline is not None:
        config, path = write_baseline_shape(args.model, args.baseline, args.flop_ratio, args.dataset, args.save_dir,
                                            data_path=args.data_path, seed=max(args.seed, 0))
        print(f"TAS baseline {args.baseline}: {config['estimated_FLOP']:.4f} MFLOPs -> {path}")
        return 0
    optim = load_any_config(OptimConfig, args.optim, epochs=args.epochs)
    search = ShapeSearchConfig(mode=args.mode, flop_ratio=args.flop_ratio, flop_weight=args.flop_weight,
                               flop_tolerance=args.flop_tolerance, arch_LR=args.arch_lr, arch_decay=args.arch_decay,
                               tau_max=args.tau_max, tau_min=args.tau_min)
    result = run_shape_search(args.model, optim, search, args.dataset, args.save_dir, split_path=args.split_path,
                              batch_size=args.batch_size, test_batch_size=args.test_batch_size, **run_options(args))
    if result.best_path is not None:  # rank 0 writes the run; the other ranks stay silent
        last, best = result.history[-1], result.best
        print(f"TAS ({args.mode}): last shape ratio {last['flop_ratio']:.4f} -> {result.last_path}; "
              f"best shape {best['estimated_FLOP']:.4f} MFLOPs -> {result.best_path}")
    return 0


if __name__ == "__main__":
    run_main(main)
