"""Retrain a searched architecture from scratch: a NASNet-space genotype with the paper recipe
(NAS-CIFAR / NAS-IMAGENET: cutout 16 on CIFAR, auxiliary weight 0.4, drop-path 0.2) or an NB201 cell
with the benchmark recipe (200 or 12 epochs).  See docs/RETRAIN.md."""
from pathlib import Path

from autodl.cli import positive_int, run_main
from autodl.cli.train import train_from_args, training_parser
from autodl.models.searched import resolve_searched_arch, searched_model_config
from autodl.spaces.nb201 import Arch

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def build_parser():
    parser = training_parser(__doc__.split("\n")[0], model=False)
    parser.add_argument("--arch", required=True,
                        help="published genotype name (DARTS_V2, GDAS_V1, SETN, ...), NB201 cell string, or artifact JSON")
    parser.add_argument("--C", type=positive_int, default=None, help="override the network's channels")
    parser.add_argument("--N", type=positive_int, default=None, help="override the network's cells per stage")
    parser.add_argument("--hp", choices=["200", "12"], default="200", help="NB201 recipe: 200 or 12 epochs")
    parser.set_defaults(cutout=None)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    arch = resolve_searched_arch(args.arch)
    imagenet = args.dataset.startswith("imagenet")
    if isinstance(arch, Arch):
        recipe = "LESS" if args.hp == "12" else ("ImageNet-16" if args.dataset.startswith("ImageNet16") else "CIFAR")
        default_optim, default_cutout = CONFIGS / "nas-benchmark" / f"{recipe}.json", 0
    else:
        default_optim = CONFIGS / "opts" / ("NAS-IMAGENET.json" if imagenet else "NAS-CIFAR.json")
        default_cutout = 0 if imagenet else 16
    args.optim = args.optim or str(default_optim)
    args.cutout = default_cutout if args.cutout is None else args.cutout
    model = searched_model_config(arch, imagenet=imagenet, C=args.C, N=args.N)
    train_from_args(args, model_config=model)
    return 0


if __name__ == "__main__":
    run_main(main)
