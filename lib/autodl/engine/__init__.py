"""The shared training engine: optimisers, schedules, losses, loops, checkpoints, runs, FLOPs."""
from .checkpoint import load_checkpoint, save_checkpoint
from .distill import DistillationLoss
from .flops import count_flops, count_parameters, get_model_infos
from .losses import LabelSmoothingCrossEntropy, build_criterion
from .meters import AverageMeter, correct_topk, obtain_accuracy
from .optim import LRScheduler, build_optim_scheduler, build_optimizer, drop_path_schedule, scheduled_lr
from .seed import get_rng_state, resolve_seed, seed_everything, set_rng_state
from .trainer import Task, Trainer

__all__ = ["load_checkpoint", "save_checkpoint", "DistillationLoss", "count_flops", "count_parameters",
           "get_model_infos", "LabelSmoothingCrossEntropy", "build_criterion", "AverageMeter", "correct_topk",
           "obtain_accuracy", "LRScheduler", "build_optim_scheduler", "build_optimizer", "drop_path_schedule",
           "scheduled_lr", "get_rng_state", "resolve_seed", "seed_everything", "set_rng_state", "Task", "Trainer"]
