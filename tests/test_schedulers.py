import math

import pytest
import torch

from autodl.config import OptimConfig
from autodl.engine import LRScheduler, build_optim_scheduler, drop_path_schedule, scheduled_lr


def recipe(**kw):
    base = dict(epochs=10, warmup=2, LR=0.1, optim="SGD", momentum=0.9, nesterov=True, decay=5e-4)
    base.update(kw)
    return OptimConfig(**base)


@pytest.mark.parametrize("scheduler", ["cos", "multistep", "exponential", "linear", "constant"])
def test_linear_warmup_per_iteration(scheduler):
    config = recipe(scheduler=scheduler, milestones=[3], gammas=[0.1], gamma=0.5)
    assert scheduled_lr(config, 0.1, 0, 0.0) == 0.0
    assert scheduled_lr(config, 0.1, 0, 0.5) == pytest.approx(0.025)
    assert scheduled_lr(config, 0.1, 1, 0.0) == pytest.approx(0.05)
    assert scheduled_lr(config, 0.1, 1, 0.75) == pytest.approx(0.0875)
    assert scheduled_lr(config, 0.1, 2, 0.0) == pytest.approx(0.1)  # warm-up ends at the base LR


def test_cosine_curve_is_per_iteration_and_reaches_eta_min():
    config = recipe(scheduler="cos", eta_min=0.001, lr_per="iteration")
    lr = lambda e, f=0.0: scheduled_lr(config, 0.1, e, f)
    assert lr(2) == pytest.approx(0.1)
    assert lr(7) == pytest.approx(0.001 + 0.099 * (1 + math.cos(math.pi * 5 / 10)) / 2)  # = 0.0505
    assert lr(7) == pytest.approx(0.0505)
    assert lr(4, 0.5) == pytest.approx(0.001 + 0.099 * (1 + math.cos(math.pi * 2.5 / 10)) / 2)
    assert lr(4, 0.5) < lr(4, 0.0)  # changes within an epoch
    assert lr(11, 0.999) == pytest.approx(0.001, abs=1e-6)  # last step of the last epoch
    assert lr(12) == pytest.approx(0.001)


def test_cosine_t_max_holds_eta_min_after_the_period():
    config = recipe(scheduler="cos", warmup=0, T_max=4, eta_min=0.0, lr_per="iteration")
    assert scheduled_lr(config, 0.1, 2) == pytest.approx(0.05)
    assert scheduled_lr(config, 0.1, 4) == pytest.approx(0.0)
    assert scheduled_lr(config, 0.1, 8) == pytest.approx(0.0)


def test_multistep_exponential_linear_exact_values():
    multistep = recipe(scheduler="multistep", warmup=5, epochs=120, milestones=[30, 60, 90], gammas=[0.1, 0.2, 0.5])
    values = [scheduled_lr(multistep, 0.1, e) for e in (5, 34, 35, 64, 65, 94, 95, 124)]
    assert values == pytest.approx([0.1, 0.1, 0.01, 0.01, 0.002, 0.002, 0.001, 0.001])
    assert scheduled_lr(multistep, 0.1, 34, 0.99) == pytest.approx(0.1)  # steps at epoch boundaries
    exponential = recipe(scheduler="exponential", warmup=0, gamma=0.5)
    assert [scheduled_lr(exponential, 0.1, e, 0.5) for e in range(4)] == pytest.approx([0.1, 0.05, 0.025, 0.0125])
    linear = recipe(scheduler="linear", warmup=0, epochs=4, eta_min=0.02, lr_per="iteration")
    assert [scheduled_lr(linear, 0.1, e) for e in range(5)] == pytest.approx([0.1, 0.08, 0.06, 0.04, 0.02])
    assert scheduled_lr(linear, 0.1, 1, 0.5) == pytest.approx(0.07)


def test_the_original_schedules_move_once_per_epoch():
    """lr_per='epoch' (the default) is the original's get_lr: the epoch index alone after warm-up, the cosine
    flat at eta_min for the last `warmup` epochs, and a T_max below the epochs oscillating (its ENAS recipe)."""
    config = recipe(scheduler="cos", eta_min=0.001)  # 10 epochs + 2 of warm-up
    assert config.lr_per == "epoch"
    lr = lambda e, f=0.0: scheduled_lr(config, 0.1, e, f)
    assert lr(1, 0.5) == pytest.approx(0.075)  # warm-up stays per iteration
    assert lr(7, 0.0) == lr(7, 0.9) == pytest.approx(0.001 + 0.099 * (1 + math.cos(math.pi * 5 / 10)) / 2)
    assert lr(9, 0.5) == pytest.approx(0.001 + 0.099 * (1 + math.cos(math.pi * 7 / 10)) / 2)
    assert lr(10) == lr(11, 0.99) == 0.001  # epoch >= epochs: eta_min, two epochs early
    enas = recipe(scheduler="cos", warmup=0, epochs=250, T_max=10, LR=0.05, eta_min=0.0005)
    assert scheduled_lr(enas, 0.05, 10) == pytest.approx(0.0005)
    assert scheduled_lr(enas, 0.05, 20) == pytest.approx(0.05)  # a 20-epoch period
    assert scheduled_lr(enas, 0.05, 15) == pytest.approx(0.0005 + 0.0495 / 2)
    linear = recipe(scheduler="linear", warmup=1, epochs=4, eta_min=0.02)
    assert [scheduled_lr(linear, 0.1, e, 0.5) for e in range(1, 5)] == pytest.approx([0.1, 0.08, 0.06, 0.04])
    multistep = recipe(scheduler="multistep", warmup=0, epochs=10, milestones=[3], gammas=[0.1])
    assert scheduled_lr(multistep, 0.1, 2, 0.99) == pytest.approx(0.1) and scheduled_lr(multistep, 0.1, 3) == pytest.approx(0.01)


def test_scheduler_sets_every_group_and_round_trips():
    params = [torch.nn.Parameter(torch.zeros(1)), torch.nn.Parameter(torch.zeros(1))]
    optimizer = torch.optim.SGD([{"params": params[:1]}, {"params": params[1:], "lr": 0.01}], lr=0.1)
    scheduler = LRScheduler(optimizer, recipe(scheduler="cos", warmup=0))
    scheduler.update(5, 0.0)
    assert scheduler.get_lr() == pytest.approx([0.05, 0.005])
    other = LRScheduler(torch.optim.SGD([{"params": params[:1]}, {"params": params[1:], "lr": 0.01}], lr=0.1),
                        recipe(scheduler="cos", warmup=0))
    other.load_state_dict(scheduler.state_dict())
    assert other.get_lr() == pytest.approx([0.05, 0.005])


def test_optimizers_follow_the_recipe():
    params = [torch.nn.Parameter(torch.zeros(2))]
    sgd, _ = build_optim_scheduler(params, recipe())
    assert isinstance(sgd, torch.optim.SGD)
    group = sgd.param_groups[0]
    assert group["momentum"] == 0.9 and group["nesterov"] and group["weight_decay"] == 5e-4
    rms, _ = build_optim_scheduler(params, recipe(optim="RMSprop", nesterov=False))
    assert isinstance(rms, torch.optim.RMSprop) and rms.param_groups[0]["momentum"] == 0.9


def test_drop_path_schedule_grows_linearly():
    assert [drop_path_schedule(0.2, e, 4) for e in range(4)] == pytest.approx([0.0, 0.05, 0.1, 0.15])
