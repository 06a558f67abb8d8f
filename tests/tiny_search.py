"""The tiny sizes the search tests share (CPU seconds), given to each algorithm where it has the setting."""
import dataclasses

from autodl.algorithms import ALGORITHMS, algorithm_config
from autodl.cli.settings import flag_name

# small enough for CPU tests; the selections and the controller do a few evaluations each
TINY = dict(channel=2, num_cells=1, select_num=3, controller_train_steps=2, controller_num_aggregate=2,
            controller_num_samples=3, controller_epoch_samples=2, partial_channels=2)

# DARTS+ may stop early at the tiny size; a skip limit above the cell's 8 ops keeps a run going every epoch
EVERY_EPOCH = dict(stop_skip_limit=9, stop_rank_patience=99)


def tiny_values(name: str, **extra) -> dict:
    """``TINY`` and ``extra``, each key where algorithm ``name``'s settings have it."""
    own = {f.name for f in dataclasses.fields(ALGORITHMS.get(name).settings)}
    return {key: value for key, value in {**TINY, **extra}.items() if key in own}


def tiny_settings(name: str, space: str = "nas-bench-201", **extra):
    """Algorithm ``name``'s settings at the tiny sizes on ``space``."""
    return algorithm_config(name, space=space, **tiny_values(name, **extra))


def tiny_flags(name: str, **extra) -> list[str]:
    """The tiny sizes as exps/search-cell.py flags for algorithm ``name``."""
    return [part for key, value in tiny_values(name, **extra).items() for part in (flag_name(key), str(value))]


SPACE_COST = {"nas-bench-201": 0, "darts": 1}  # a tiny NASNet-space search costs several NB201 ones


def cost(name: str, space: str) -> tuple:
    """How expensive a tiny search is, as a sort key: the space, then second-order steps."""
    return SPACE_COST.get(space, len(SPACE_COST)), ALGORITHMS.get(name).fixed.get("order", 1), name


def cheapest_per_task(cases) -> set:
    """Of (algorithm, space) ``cases``, the cheapest one of every registered task class (names sharing a
    class, e.g. a first- and second-order variant, take the same steps and hold the same state)."""
    best: dict = {}
    for name, space in sorted(cases, key=lambda case: cost(*case)):
        best.setdefault(ALGORITHMS.get(name).task, (name, space))
    return set(best.values())


def fast_steps_cases(cases) -> set:
    """Of (algorithm, space) ``cases``, those whose step tests run in the fast set: every case on the cheapest
    space (each algorithm's own steps), and on a dearer space the cheapest case of every supernet model it
    is searched with (that space's cells and their mixed edges); the rest run with ``-m slow``."""
    fast = {case for case in cases if cost(*case)[0] == 0}
    by_model: dict = {}
    for name, space in sorted(cases, key=lambda case: cost(*case)):
        spec = ALGORITHMS.get(name)
        by_model.setdefault((space, spec.supernet(space), spec.fixed.get("op_set")), (name, space))
    return fast | set(by_model.values())
