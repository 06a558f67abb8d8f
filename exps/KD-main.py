"""Train a student classifier by knowledge distillation from a trained teacher run (see docs/BASELINE.md)."""
from autodl.cli import existing_file, positive_float, run_main, unit_float
from autodl.cli.train import train_from_args, training_parser


def build_parser():
    parser = training_parser("Knowledge distillation: (1-a) CE + a T^2 KL(teacher || student).")
    parser.add_argument("--teacher-checkpoint", required=True, type=existing_file,
                        help="checkpoint inside the teacher's run directory (<run>/checkpoint/best.pth)")
    parser.add_argument("--kd-alpha", type=unit_float, default=0.9, help="weight a of the distillation term, in [0, 1]")
    parser.add_argument("--kd-temperature", type=positive_float, default=4.0, help="softmax temperature T")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    train_from_args(args, teacher_checkpoint=args.teacher_checkpoint, kd_alpha=args.kd_alpha,
                    kd_temperature=args.kd_temperature)
    return 0


if __name__ == "__main__":
    run_main(main)
